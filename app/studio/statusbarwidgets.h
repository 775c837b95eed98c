#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace Studio {

class ProjectSession;

// "● PostgreSQL healthy · 127.0.0.1:54330" in the status bar.
class DatabaseStatusWidget : public QWidget
{
    Q_OBJECT
public:
    explicit DatabaseStatusWidget(QWidget *parent = nullptr);
    void setSession(ProjectSession *session);
    QString text() const;

private:
    void update();
    ProjectSession *m_session = nullptr;
    QLabel *m_dot = nullptr;
    QLabel *m_text = nullptr;
};

// The realtime replication slot's lag (pg_events_ws /health, or the slot when it is not running).
class ReplicationLagWidget : public QWidget
{
    Q_OBJECT
public:
    explicit ReplicationLagWidget(QWidget *parent = nullptr);
    void setSession(ProjectSession *session);
    static QString formatBytes(qint64 bytes);
    QString text() const;

private:
    QLabel *m_text = nullptr;
};

// A busy indicator with a Cancel button for the long action in progress.
class TaskWidget : public QWidget
{
    Q_OBJECT
public:
    explicit TaskWidget(QWidget *parent = nullptr);
    void start(const QString &what, bool cancellable);
    void finish();

Q_SIGNALS:
    void cancelRequested();

private:
    QLabel *m_text = nullptr;
    QProgressBar *m_bar = nullptr;
    QToolButton *m_cancel = nullptr;
};

} // namespace Studio
