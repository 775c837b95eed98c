#pragma once

#include "asyncconnection.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QTableView;
class QToolButton;
class QComboBox;

namespace Studio {

class ResultsModel;

// The results dock: the rows of the last statement that returned any (or the one chosen
// in the combo), row count and time, and the messages of the batch.
class ResultsGrid : public QWidget
{
    Q_OBJECT
public:
    explicit ResultsGrid(QWidget *parent = nullptr);

    void setRunning(bool running);
    void showReply(Core::AsyncReply &reply, const QString &errorText = {});
    void clear();

    ResultsModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    int rowCount() const;
    QString summary() const;
    QString messages() const;

Q_SIGNALS:
    void cancelRequested();

private:
    void showResult(int index);

    ResultsModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_summary = nullptr;
    QComboBox *m_which = nullptr;
    QToolButton *m_cancel = nullptr;
    QPlainTextEdit *m_messages = nullptr;
    QTabWidget *m_tabs = nullptr;
    std::vector<Core::PgResult> m_results;
    qint64 m_elapsedMs = 0;
};

} // namespace Studio
