#pragma once

#include "migrator.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace Studio {

class ProjectSession;

// Every schema/migration/function file with its state (applied, pending, modified, failed,
// missing, out of order), checksum and apply time; apply, dry run, cancel, new files.
class MigrationsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit MigrationsPanel(QWidget *parent = nullptr);

    void setSession(ProjectSession *session);

    QTreeWidget *tree() const { return m_tree; }
    // The state shown for a file path ("applied", "pending", ...), empty if not listed.
    QString stateOf(const QString &path) const;
    QString message() const;

Q_SIGNALS:
    void applyRequested();
    void dryRunRequested();
    void newMigrationRequested();
    void newFunctionRequested();
    void openFileRequested(const QString &relativePath);

private:
    void showPlan(const Core::MigrationPlan &plan);
    void showError(const Core::Error &error);
    void setBusy(bool busy, const QString &what = {});

    ProjectSession *m_session = nullptr;
    QTreeWidget *m_tree = nullptr;
    QLabel *m_message = nullptr;
    QProgressBar *m_progress = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QToolButton *m_refresh = nullptr;
    QToolButton *m_apply = nullptr;
    QToolButton *m_dryRun = nullptr;
    QToolButton *m_cancel = nullptr;
    QToolButton *m_newMigration = nullptr;
    QToolButton *m_newFunction = nullptr;
    bool m_errorShown = false;
};

} // namespace Studio
