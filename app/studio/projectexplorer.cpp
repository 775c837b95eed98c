#include "projectexplorer.h"

#include <QFileSystemModel>
#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace Studio {

namespace {
// Hides .pgext/ (cluster data, sockets, logs) and node_modules/.
class HidePrivate : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QString name = sourceModel()->index(row, 0, parent).data().toString();
        return name != u".pgext"_qs && name != u"node_modules"_qs && name != u".git"_qs;
    }
};
} // namespace

ProjectExplorer::ProjectExplorer(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_model = new QFileSystemModel(this);
    m_model->setFilter(QDir::AllDirs | QDir::Files | QDir::NoDotAndDotDot | QDir::Hidden);
    m_model->setReadOnly(true);
    m_filter = new HidePrivate(this);
    m_filter->setSourceModel(m_model);
    m_view = new QTreeView(this);
    m_view->setModel(m_filter);
    m_view->setHeaderHidden(true);
    for (int c = 1; c < m_model->columnCount(); ++c)
        m_view->hideColumn(c);
    m_view->setAnimated(true);
    layout->addWidget(m_view);
    connect(m_view, &QTreeView::activated, this, [this](const QModelIndex &index) {
        const QModelIndex source = m_filter->mapToSource(index);
        if (!m_model->isDir(source))
            Q_EMIT fileActivated(m_model->filePath(source));
    });
    // Open the folders that hold SQL once they are loaded.
    connect(m_model, &QFileSystemModel::directoryLoaded, this, [this](const QString &path) {
        if (path == m_model->rootPath()) {
            for (const QString &dir : {u"functions"_qs, u"migrations"_qs})
                m_view->expand(m_filter->mapFromSource(m_model->index(m_model->rootPath() + u'/' + dir)));
        }
    });
}

void ProjectExplorer::setRoot(const QString &root)
{
    if (root.isEmpty()) {
        m_view->setRootIndex(m_filter->mapFromSource(m_model->setRootPath(QString())));
        m_view->setEnabled(false);
        return;
    }
    m_view->setEnabled(true);
    const QModelIndex index = m_model->setRootPath(root);
    m_view->setRootIndex(m_filter->mapFromSource(index));
    for (int c = 1; c < m_model->columnCount(); ++c)
        m_view->hideColumn(c);
}

} // namespace Studio
