#pragma once

#include <QWidget>

class QFileSystemModel;
class QSortFilterProxyModel;
class QTreeView;

namespace Studio {

// The project's files (QFileSystemModel reads folders on its own thread), without the
// private .pgext/ folder. Activating a .sql file opens it.
class ProjectExplorer : public QWidget
{
    Q_OBJECT
public:
    explicit ProjectExplorer(QWidget *parent = nullptr);

    void setRoot(const QString &root); // empty: nothing
    QTreeView *view() const { return m_view; }
    QFileSystemModel *model() const { return m_model; }

Q_SIGNALS:
    void fileActivated(const QString &path);

private:
    QFileSystemModel *m_model = nullptr;
    QSortFilterProxyModel *m_filter = nullptr;
    QTreeView *m_view = nullptr;
};

} // namespace Studio
