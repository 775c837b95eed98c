#include "resultsmodel.h"

#include <QBrush>
#include <QFont>
#include <QPalette>
#include <QApplication>

namespace Studio {

namespace {
// Type OIDs from pg_type.h that read better right-aligned.
bool isNumericType(unsigned int oid)
{
    switch (oid) {
    case 20: case 21: case 23: case 26: case 700: case 701: case 1700: case 790:
        return true;
    default:
        return false;
    }
}
constexpr int MaxCellChars = 2000; // a 10 MB jsonb must not end up in one QString cell
} // namespace

ResultsModel::ResultsModel(QObject *parent) : QAbstractTableModel(parent) {}

void ResultsModel::setResult(Core::PgResult result)
{
    beginResetModel();
    m_result = std::move(result);
    m_rows = m_result.isNull() ? 0 : qMax(0, m_result.rows());
    m_columns = m_result.isNull() ? 0 : qMax(0, m_result.columns());
    endResetModel();
}

void ResultsModel::clear()
{
    setResult(Core::PgResult());
}

int ResultsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int ResultsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_columns;
}

QVariant ResultsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows || index.column() >= m_columns)
        return {};
    const int r = index.row(), c = index.column();
    switch (role) {
    case Qt::DisplayRole: {
        if (m_result.isNull(r, c))
            return u"NULL"_qs;
        QString v = m_result.value(r, c);
        if (v.size() > MaxCellChars)
            v = v.left(MaxCellChars) + u"…"_qs;
        v.replace(u'\n', u'⏎');
        return v;
    }
    case Qt::EditRole:
    case Qt::ToolTipRole:
        return m_result.isNull(r, c) ? QVariant() : QVariant(m_result.value(r, c).left(20000));
    case Qt::ForegroundRole:
        if (m_result.isNull(r, c))
            return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
        return {};
    case Qt::FontRole:
        if (m_result.isNull(r, c)) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        return {};
    case Qt::TextAlignmentRole:
        return isNumericType(m_result.columnType(c)) ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                                                      : QVariant(int(Qt::AlignLeft | Qt::AlignVCenter));
    default:
        return {};
    }
}

QVariant ResultsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (orientation == Qt::Vertical)
        return section + 1;
    if (section < m_columns)
        return m_result.columnName(section);
    return {};
}

} // namespace Studio
