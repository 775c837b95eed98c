#include "resultsgrid.h"

#include "resultsmodel.h"

#include <libpq-fe.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace Studio {

ResultsGrid::ResultsGrid(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 3, 6, 3);
    m_summary = new QLabel(tr("Run a query with Ctrl+Enter (the selection, or the whole file)."), this);
    m_which = new QComboBox(this);
    m_which->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_which->hide();
    m_cancel = new QToolButton(this);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setEnabled(false);
    bar->addWidget(m_summary, 1);
    bar->addWidget(m_which);
    bar->addWidget(m_cancel);
    layout->addLayout(bar);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_model = new ResultsModel(this);
    m_view = new QTableView(this);
    m_view->setModel(m_model);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_view->horizontalHeader()->setMaximumSectionSize(400);
    m_messages = new QPlainTextEdit(this);
    m_messages->setReadOnly(true);
    m_tabs->addTab(m_view, tr("Rows"));
    m_tabs->addTab(m_messages, tr("Messages"));
    layout->addWidget(m_tabs, 1);

    connect(m_cancel, &QToolButton::clicked, this, &ResultsGrid::cancelRequested);
    connect(m_which, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0)
            showResult(m_which->itemData(i).toInt());
    });
}

void ResultsGrid::setRunning(bool running)
{
    m_cancel->setEnabled(running);
    if (running)
        m_summary->setText(tr("Running…"));
}

void ResultsGrid::clear()
{
    m_results.clear();
    m_model->clear();
    m_messages->clear();
    m_which->clear();
    m_which->hide();
}

void ResultsGrid::showReply(Core::AsyncReply &reply, const QString &errorText)
{
    m_which->blockSignals(true);
    m_which->clear();
    m_which->blockSignals(false);
    m_results = std::move(reply.results);
    m_elapsedMs = reply.elapsedMs;
    m_messages->clear();
    int last = -1;
    for (size_t i = 0; i < m_results.size(); ++i) {
        const Core::PgResult &r = m_results[i];
        const bool rows = PQresultStatus(r.get()) == PGRES_TUPLES_OK || PQresultStatus(r.get()) == PGRES_SINGLE_TUPLE;
        m_messages->appendPlainText(rows ? tr("%1: %n row(s)", nullptr, r.rows()).arg(r.commandStatus())
                                         : r.commandStatus());
        if (rows) {
            last = int(i);
            m_which->addItem(tr("Result %1 (%n rows)", nullptr, r.rows()).arg(i + 1), int(i));
        }
    }
    m_which->setVisible(m_which->count() > 1);
    if (m_which->count() > 1) {
        m_which->blockSignals(true);
        m_which->setCurrentIndex(m_which->count() - 1);
        m_which->blockSignals(false);
    }
    if (reply.error) {
        m_messages->appendPlainText(errorText.isEmpty() ? reply.error->toString() : errorText);
        if (reply.cancelled)
            m_messages->appendPlainText(tr("Cancelled."));
    }
    if (last >= 0) {
        showResult(last);
    } else {
        m_model->clear();
    }
    if (reply.error) {
        m_summary->setText(reply.cancelled ? tr("Cancelled after %1 ms").arg(m_elapsedMs)
                                           : tr("Error after %1 ms: %2").arg(m_elapsedMs).arg(reply.error->headline()));
        m_tabs->setCurrentWidget(m_messages);
    } else if (last < 0) {
        m_summary->setText(tr("%1 · %2 ms").arg(m_results.empty() ? tr("done") : m_results.back().commandStatus())
                               .arg(m_elapsedMs));
        m_tabs->setCurrentWidget(m_messages);
    } else {
        m_tabs->setCurrentWidget(m_view);
    }
}

void ResultsGrid::showResult(int index)
{
    if (index < 0 || size_t(index) >= m_results.size())
        return;
    // The model gets its own copy, so switching between the batch's results keeps them all.
    Core::PgResult r(PQcopyResult(m_results[size_t(index)].get(), PG_COPYRES_ATTRS | PG_COPYRES_TUPLES));
    const int rows = r.rows();
    m_model->setResult(std::move(r));
    m_view->resizeColumnsToContents();
    m_summary->setText(tr("%n row(s) · %1 ms", nullptr, rows).arg(m_elapsedMs));
}

int ResultsGrid::rowCount() const
{
    return m_model->rowCount();
}

QString ResultsGrid::summary() const
{
    return m_summary->text();
}

QString ResultsGrid::messages() const
{
    return m_messages->toPlainText();
}

} // namespace Studio
