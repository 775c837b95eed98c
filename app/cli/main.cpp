#include "cli.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"pgext"_qs);
    QCoreApplication::setApplicationVersion(QStringLiteral(PGEXT_VERSION));
    Cli cli;
    return cli.run(QCoreApplication::arguments());
}
