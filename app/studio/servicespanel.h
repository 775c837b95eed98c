#pragma once

#include <QHash>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QTimer;
class QToolButton;
class QTreeWidget;

namespace Studio {

class ProjectSession;

// PostgreSQL, PostgREST and pg_events_ws: state (stopped, starting, healthy, failed),
// port, pid, start/stop/restart, and a live log per service.
class ServicesPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ServicesPanel(QWidget *parent = nullptr);

    void setSession(ProjectSession *session);
    // "stopped", "starting", "healthy", "failed" for "postgres", "postgrest", "realtime".
    QString stateOf(const QString &service) const;
    QString logOf(const QString &service) const;
    QTreeWidget *tree() const { return m_tree; }

private:
    void refresh();
    void appendLog(const QString &service, const QString &line);
    void tailPostgresLog();
    QString selectedService() const;

    ProjectSession *m_session = nullptr;
    QTreeWidget *m_tree = nullptr;
    QTabWidget *m_logs = nullptr;
    QHash<QString, QPlainTextEdit *> m_logViews;
    QLabel *m_urls = nullptr;
    QToolButton *m_startAll = nullptr;
    QToolButton *m_stopAll = nullptr;
    QToolButton *m_start = nullptr;
    QToolButton *m_stop = nullptr;
    QToolButton *m_restart = nullptr;
    QTimer *m_tail = nullptr;
    qint64 m_postgresLogPos = -1;
};

} // namespace Studio
