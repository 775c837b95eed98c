#pragma once

#include "pgresult.h"

#include <QAbstractTableModel>

namespace Studio {

// A read-only table over one PgResult. Values stay in libpq's memory; the model only
// converts the cells the view asks for.
class ResultsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    explicit ResultsModel(QObject *parent = nullptr);

    void setResult(Core::PgResult result);
    void clear();
    const Core::PgResult &result() const { return m_result; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    Core::PgResult m_result;
    int m_rows = 0;
    int m_columns = 0;
};

} // namespace Studio
