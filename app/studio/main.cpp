// pgext Studio: argument parsing and the window; every behaviour lives in the studio
// library (widgets) and core/ (projects, databases, migrations, services).
#include "mainwindow.h"
#include "screenshottour.h"
#include "studiologging.h"
#include "studiosettings.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QTextStream>
#include <QTimer>

int main(int argc, char *argv[])
{
    QElapsedTimer clock;
    clock.start();
    QApplication app(argc, argv);
    QApplication::setApplicationName(u"pgext-studio"_qs);
    QApplication::setOrganizationName(u"pgext"_qs);
    QApplication::setApplicationVersion(QStringLiteral(PGEXT_VERSION));
    QApplication::setApplicationDisplayName(u"pgext Studio"_qs);

    QCommandLineParser parser;
    parser.setApplicationDescription(u"pgext Studio: projects, SQL editor, migrations and local services."_qs);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(u"project"_qs, u"Project folder to open (default: the most recent one)."_qs);
    const QCommandLineOption screenshot(u"screenshot"_qs, u"Save a PNG of each main view into <dir>, then quit."_qs, u"dir"_qs);
    const QCommandLineOption startupReport(u"startup-report"_qs,
                                           u"Print the time from launch to a usable window, then quit."_qs);
    parser.addOption(screenshot);
    parser.addOption(startupReport);
    parser.process(app);

    Studio::StudioSettings::instance().applyEnvironment();
    const qint64 appMs = clock.elapsed();
    Studio::MainWindow window;
    QString project = parser.positionalArguments().value(0);
    if (project.isEmpty() && !parser.isSet(startupReport)) {
        const QStringList recent = Studio::StudioSettings::instance().recentProjects();
        if (!recent.isEmpty())
            project = recent.first();
    }
    if (!project.isEmpty()) {
        if (Core::Status s = window.openProject(project); !s)
            QTextStream(stderr) << "pgext-studio: " << s.error().toString() << '\n';
    }
    const qint64 projectMs = clock.elapsed();
    if (parser.isSet(screenshot))
        window.setGeometry(0, 0, 1440, 900);
    window.show();
    if (parser.isSet(startupReport)) {
        // "Usable": the window was exposed and painted with the project, and the event loop
        // is free for input (a zero timer runs after the pending paint events).
        QTimer::singleShot(0, &window, [&] {
            QTimer::singleShot(0, &window, [&] {
                QTextStream(stdout) << "startup qapplication_ms=" << appMs << " project_ms=" << projectMs
                                    << " usable_ms=" << clock.elapsed()
                                    << " project_open=" << (window.session() ? 1 : 0) << Qt::endl;
                window.close();
                app.quit();
            });
        });
    }
    if (parser.isSet(screenshot)) {
        auto *tour = new Studio::ScreenshotTour(&window, parser.value(screenshot));
        QObject::connect(tour, &Studio::ScreenshotTour::finished, &app, [&app](int code) {
            QTimer::singleShot(200, &app, [&app, code] { app.exit(code); });
        });
        tour->start();
    }
    return app.exec();
}
