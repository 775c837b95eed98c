#include "findbar.h"

#include "sqleditor.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>

namespace Studio {

FindBar::FindBar(QWidget *parent) : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(6, 3, 6, 3);
    grid->setVerticalSpacing(3);
    m_find = new QLineEdit(this);
    m_find->setPlaceholderText(tr("Find"));
    m_find->setClearButtonEnabled(true);
    m_replace = new QLineEdit(this);
    m_replace->setPlaceholderText(tr("Replace with"));
    auto button = [this](const QString &text, auto slot) {
        auto *b = new QToolButton(this);
        b->setText(text);
        b->setAutoRaise(true);
        connect(b, &QToolButton::clicked, this, slot);
        return b;
    };
    m_case = new QCheckBox(tr("Aa"), this);
    m_case->setToolTip(tr("Match case"));
    m_word = new QCheckBox(tr("Whole words"), this);
    m_regex = new QCheckBox(tr("Regex"), this);
    m_status = new QLabel(this);
    auto *close = button(u"✕"_qs, [this] { hide(); if (m_editor) m_editor->setFocus(); });
    close->setToolTip(tr("Close (Esc)"));
    grid->addWidget(m_find, 0, 0);
    grid->addWidget(button(tr("Previous"), [this] { findNext(false); }), 0, 1);
    grid->addWidget(button(tr("Next"), [this] { findNext(true); }), 0, 2);
    grid->addWidget(m_case, 0, 3);
    grid->addWidget(m_word, 0, 4);
    grid->addWidget(m_regex, 0, 5);
    grid->addWidget(m_status, 0, 6);
    grid->addWidget(close, 0, 7);
    grid->addWidget(m_replace, 1, 0);
    auto *replaceOne = button(tr("Replace"), [this] { this->replaceOne(); });
    auto *replaceAll = button(tr("Replace all"), [this] { this->replaceAll(); });
    grid->addWidget(replaceOne, 1, 1);
    grid->addWidget(replaceAll, 1, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(6, 1);
    m_replaceWidgets = {m_replace, replaceOne, replaceAll};
    connect(m_find, &QLineEdit::returnPressed, this, [this] { findNext(true); });
    connect(m_replace, &QLineEdit::returnPressed, this, [this] { this->replaceOne(); });
    hide();
}

void FindBar::setEditor(SqlEditor *editor)
{
    m_editor = editor;
}

void FindBar::showFind(bool withReplace)
{
    for (QWidget *w : std::as_const(m_replaceWidgets))
        w->setVisible(withReplace);
    if (m_editor && m_editor->hasSelectedText() && !m_editor->selectedText().contains(u'\n'))
        m_find->setText(m_editor->selectedText());
    show();
    m_find->setFocus();
    m_find->selectAll();
}

bool FindBar::findNext(bool forward)
{
    if (!m_editor || m_find->text().isEmpty())
        return false;
    int line = 0, index = 0;
    if (!forward && m_editor->hasSelectedText()) {
        int l2, i2;
        m_editor->getSelection(&line, &index, &l2, &i2);
    } else {
        m_editor->getCursorPosition(&line, &index);
    }
    const bool found = m_editor->findFirst(m_find->text(), m_regex->isChecked(), m_case->isChecked(), m_word->isChecked(),
                                           true, forward, line, index);
    m_status->setText(found ? QString() : tr("not found"));
    return found;
}

void FindBar::replaceOne()
{
    if (!m_editor)
        return;
    if (!m_editor->hasSelectedText() && !findNext(true))
        return;
    m_editor->replace(m_replace->text());
    findNext(true);
}

int FindBar::replaceAll()
{
    if (!m_editor || m_find->text().isEmpty())
        return 0;
    int count = 0;
    m_editor->beginUndoAction();
    bool found = m_editor->findFirst(m_find->text(), m_regex->isChecked(), m_case->isChecked(), m_word->isChecked(),
                                     false, true, 0, 0);
    while (found && count < 100000) {
        m_editor->replace(m_replace->text());
        ++count;
        found = m_editor->findNext();
    }
    m_editor->endUndoAction();
    m_status->setText(tr("%n replaced", nullptr, count));
    return count;
}

void FindBar::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Escape) {
        hide();
        if (m_editor)
            m_editor->setFocus();
        return;
    }
    QWidget::keyPressEvent(event);
}

} // namespace Studio
