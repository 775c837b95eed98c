// Launch-to-usable-window time of pgext-studio with a project open. Not a ctest test:
// run it and read the table. Each run is a fresh process (`--startup-report`), measured
// from QProcess::start() to the line the studio prints once the window is painted with the
// project and the event loop is free; the studio's own split is shown too.
#include "scaffold.h"
#include "testcluster.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTextStream>

#include <algorithm>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const int runs = argc > 1 ? qMax(1, QString::fromLocal8Bit(argv[1]).toInt()) : 7;
    QTextStream out(stdout);
    auto dir = TestCluster::makeSharedTempDir();
    const QString root = dir->filePath(u"bench-app"_qs);
    if (Core::Status s = Core::Scaffold::initProject(root, u"bench-app"_qs, u"todo"_qs); !s) {
        out << s.error().toString() << '\n';
        return 1;
    }
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!env.contains(u"DISPLAY"_qs) && !env.contains(u"WAYLAND_DISPLAY"_qs))
        env.insert(u"QT_QPA_PLATFORM"_qs, u"offscreen"_qs);
    env.insert(u"PGEXT_STUDIO_SETTINGS"_qs, dir->filePath(u"studio.ini"_qs));
    const QString platform = env.value(u"QT_QPA_PLATFORM"_qs, u"xcb"_qs);

    out << "pgext-studio startup, project " << root << " (template todo), platform " << platform << "\n\n";
    out << "| run | launch → usable window (ms) | QApplication (ms) | + window & project (ms) | project open |\n";
    out << "|----:|----------------------------:|------------------:|-----------------------:|:------------:|\n";
    QList<qint64> totals;
    static const QRegularExpression re(u"qapplication_ms=(\\d+) project_ms=(\\d+) usable_ms=(\\d+) project_open=(\\d)"_qs);
    for (int i = 0; i <= runs; ++i) { // run 0 warms the page cache and is not counted
        QProcess p;
        p.setProcessEnvironment(env);
        QElapsedTimer clock;
        clock.start();
        p.start(QStringLiteral(PGEXT_STUDIO_BINARY), {u"--startup-report"_qs, root});
        qint64 usableWall = -1;
        QString line;
        while (p.waitForReadyRead(30000)) {
            line += QString::fromUtf8(p.readAllStandardOutput());
            if (line.contains(u'\n')) {
                usableWall = clock.elapsed();
                break;
            }
        }
        p.waitForFinished(30000);
        const auto m = re.match(line);
        if (!m.hasMatch() || usableWall < 0) {
            out << "run " << i << ": no report (" << QString::fromUtf8(p.readAllStandardError()).trimmed() << ")\n";
            return 1;
        }
        if (i == 0)
            continue;
        totals << usableWall;
        out << "| " << i << " | " << usableWall << " | " << m.captured(1) << " | "
            << (m.captured(3).toLongLong() - m.captured(1).toLongLong()) << " | "
            << (m.captured(4) == u"1"_qs ? "yes" : "no") << " |\n";
    }
    std::sort(totals.begin(), totals.end());
    const qint64 median = totals.at(totals.size() / 2);
    out << "\nmedian " << median << " ms, best " << totals.first() << " ms, worst " << totals.last()
        << " ms — goal < 1000 ms: " << (median < 1000 ? "met" : "NOT met") << '\n';
    return 0;
}
