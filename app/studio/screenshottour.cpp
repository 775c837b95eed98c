#include "screenshottour.h"

#include "editorarea.h"
#include "mainwindow.h"
#include "migrationspanel.h"
#include "newprojectwizard.h"
#include "projectsession.h"
#include "resultsgrid.h"
#include "servicespanel.h"
#include "settingsdialog.h"
#include "sqleditor.h"
#include "studiologging.h"
#include "studiosettings.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QTimer>

namespace Studio {

ScreenshotTour::ScreenshotTour(MainWindow *window, const QString &directory)
    : QObject(window), m_window(window), m_dir(directory)
{
}

void ScreenshotTour::start()
{
    QDir().mkpath(m_dir);
    QTimer::singleShot(300, this, [this] { step(0); });
}

void ScreenshotTour::fail(const QString &why)
{
    qCCritical(lcStudio) << "screenshot tour:" << why;
    if (QFile::exists(m_functionFile) && !m_functionOriginal.isEmpty()) {
        QFile f(m_functionFile);
        if (f.open(QIODevice::WriteOnly))
            f.write(m_functionOriginal);
    }
    Q_EMIT finished(1);
}

void ScreenshotTour::waitFor(std::function<bool()> ready, int timeoutMs, std::function<void()> next)
{
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    auto *timer = new QTimer(this);
    timer->setInterval(100);
    connect(timer, &QTimer::timeout, this, [this, timer, clock, ready, timeoutMs, next] {
        if (ready()) {
            timer->deleteLater();
            QTimer::singleShot(400, this, next); // let the views settle and repaint
        } else if (clock->elapsed() > timeoutMs) {
            timer->deleteLater();
            fail(u"timed out"_qs);
        }
    });
    timer->start();
}

void ScreenshotTour::shoot(const QString &name, QWidget *widget)
{
    QWidget *w = widget ? widget : m_window;
    const QString file = QDir(m_dir).filePath(name + u".png"_qs);
    if (!w->grab().save(file))
        qCWarning(lcStudio) << "cannot write" << file;
    else
        qCInfo(lcStudio) << "wrote" << file;
}

void ScreenshotTour::step(int index)
{
    ProjectSession *session = m_window->session();
    if (!session) {
        fail(u"no project open"_qs);
        return;
    }
    const Core::Project &project = session->project();
    auto raise = [this](const char *dock) { m_window->dock(QString::fromLatin1(dock))->raise(); };
    switch (index) {
    case 0: // services: start everything, wait for healthy
        raise("ServicesDock");
        m_window->startServices();
        waitFor([session] { return session->isAllHealthy(); }, 90000, [this, raise] {
            raise("ServicesDock");
            QTimer::singleShot(1500, this, [this] { // a few log lines and a lag reading
                shoot(u"services"_qs);
                step(1);
            });
        });
        return;
    case 1: { // editor + results
        SqlEditor *e = m_window->editors()->newScratch(
            u"-- Functions of this project, with their language and volatility\n"
            "SELECT n.nspname AS schema,\n"
            "       p.proname AS function,\n"
            "       pg_get_function_identity_arguments(p.oid) AS arguments,\n"
            "       l.lanname AS language,\n"
            "       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility\n"
            "  FROM pg_proc p\n"
            "  JOIN pg_namespace n ON n.oid = p.pronamespace\n"
            "  JOIN pg_language l ON l.oid = p.prolang\n"
            " WHERE n.nspname IN ('public', 'auth', 'api', 'store')\n"
            " ORDER BY 1, 2;\n"_qs);
        Q_UNUSED(e);
        raise("ResultsDock");
        m_window->runSql();
        waitFor([this, session] { return !session->isQueryRunning() && m_window->results()->rowCount() > 0; }, 30000,
                [this] {
                    shoot(u"editor-results"_qs);
                    step(2);
                });
        return;
    }
    case 2: { // break a function, apply: the marker
        QDir functions(project.path(project.manifest().functionsDir));
        const QStringList files = functions.entryList({u"*.sql"_qs}, QDir::Files, QDir::Name);
        if (files.isEmpty()) {
            step(3);
            return;
        }
        m_functionFile = functions.filePath(files.first());
        SqlEditor *e = m_window->editors()->openFile(m_functionFile);
        m_functionOriginal = e->text().toUtf8();
        QString broken = e->text();
        const qsizetype at = broken.indexOf(u"SET done = true"_qs);
        if (at >= 0)
            broken.replace(at, 15, u"SET done = ture_value"_qs);
        else
            broken.replace(broken.indexOf(u"RETURNS"_qs), 7, u"RETURNZ"_qs);
        e->setText(broken);
        m_window->applyMigrations();
        waitFor([session, e] { return !session->isMigrating() && !e->errorLines().isEmpty(); }, 30000, [this] {
            shoot(u"error-marker"_qs);
            step(3);
        });
        return;
    }
    case 3: { // fix, apply: migrations panel
        if (SqlEditor *e = m_window->editors()->editorFor(m_functionFile); e && !m_functionOriginal.isEmpty()) {
            e->setText(QString::fromUtf8(m_functionOriginal));
            m_window->applyMigrations();
        }
        raise("MigrationsDock");
        waitFor([session, this] {
            return !session->isMigrating() && m_window->migrations()->message().contains(u"applied"_qs);
        }, 30000, [this, raise] {
            raise("MigrationsDock");
            shoot(u"migrations"_qs);
            step(4);
        });
        return;
    }
    case 4: { // settings and new project dialogs
        auto *settings = new SettingsDialog(m_window);
        settings->setAttribute(Qt::WA_DeleteOnClose);
        settings->show();
        QTimer::singleShot(500, this, [this, settings] {
            shoot(u"settings"_qs, settings);
            settings->close();
            auto *wizard = new NewProjectWizard(m_window);
            wizard->setAttribute(Qt::WA_DeleteOnClose);
            wizard->findChild<QLineEdit *>()->setText(u"my-app"_qs);
            wizard->show();
            QTimer::singleShot(500, this, [this, wizard] {
                shoot(u"new-project"_qs, wizard);
                wizard->close();
                step(5);
            });
        });
        return;
    }
    case 5: { // dark theme
        const StudioSettings::Theme before = StudioSettings::instance().theme();
        StudioSettings::instance().setTheme(StudioSettings::Theme::Dark);
        m_window->applyAppearance();
        raise("ServicesDock");
        QTimer::singleShot(800, this, [this, before, raise] {
            shoot(u"dark"_qs);
            StudioSettings::instance().setTheme(before);
            m_window->applyAppearance();
            raise("ResultsDock");
            step(6);
        });
        return;
    }
    case 6: // stop everything, quit
        m_window->stopServices();
        waitFor([session] {
            return session->stackPhase() == ProjectSession::StackPhase::Off
                   && session->databaseState() == ProjectSession::DbState::Stopped;
        }, 30000, [this] { Q_EMIT finished(0); });
        return;
    default:
        Q_EMIT finished(0);
    }
}

} // namespace Studio
