#pragma once

#include <QObject>
#include <QString>

#include <functional>

namespace Studio {

class MainWindow;

// `pgext-studio --screenshot <dir> <project>`: drives the open window through its main
// views (editor + results, error marker, migrations, services, settings, new project,
// dark theme) and saves a PNG of each, then quits. Run under Xvfb at 1440x900 for the docs.
// The project's function file is broken and restored on the way; services are stopped at
// the end.
class ScreenshotTour : public QObject
{
    Q_OBJECT
public:
    ScreenshotTour(MainWindow *window, const QString &directory);
    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void step(int index);
    void waitFor(std::function<bool()> ready, int timeoutMs, std::function<void()> next);
    void shoot(const QString &name, QWidget *widget = nullptr);
    void fail(const QString &why);

    MainWindow *m_window;
    QString m_dir;
    QString m_functionFile;
    QByteArray m_functionOriginal;
};

} // namespace Studio
