#include "editorarea.h"

#include "findbar.h"
#include "sqleditor.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace Studio {

EditorArea::EditorArea(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_tabs = new QTabWidget(this);
    m_tabs->setTabsClosable(true);
    m_tabs->setMovable(true);
    m_tabs->setDocumentMode(true);
    m_findBar = new FindBar(this);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_findBar);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, [this](int index) {
        closeEditor(qobject_cast<SqlEditor *>(m_tabs->widget(index)));
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        m_findBar->setEditor(currentEditor());
        Q_EMIT currentEditorChanged(currentEditor());
    });
}

SqlEditor *EditorArea::editorFor(const QString &path) const
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    for (SqlEditor *e : editors())
        if (e->path() == abs)
            return e;
    return nullptr;
}

SqlEditor *EditorArea::openFile(const QString &path, Core::Error *error)
{
    if (SqlEditor *e = editorFor(path)) {
        m_tabs->setCurrentWidget(e);
        return e;
    }
    auto *editor = new SqlEditor(m_tabs);
    editor->setDark(m_dark);
    if (m_font != QFont())
        editor->setEditorFont(m_font);
    if (Core::Status s = editor->load(path); !s) {
        if (error)
            *error = s.error();
        delete editor;
        return nullptr;
    }
    editor->setCompletionWords(m_completionWords);
    const int index = m_tabs->addTab(editor, editor->displayName());
    m_tabs->setTabToolTip(index, editor->path());
    connect(editor, &SqlEditor::dirtyChanged, this, [this, editor] { updateTitle(editor); });
    m_tabs->setCurrentIndex(index);
    return editor;
}

SqlEditor *EditorArea::newScratch(const QString &text)
{
    auto *editor = new SqlEditor(m_tabs);
    editor->setDark(m_dark);
    if (m_font != QFont())
        editor->setEditorFont(m_font);
    editor->setText(text);
    editor->setModified(false);
    editor->setCompletionWords(m_completionWords);
    const int index = m_tabs->addTab(editor, editor->displayName());
    connect(editor, &SqlEditor::dirtyChanged, this, [this, editor] { updateTitle(editor); });
    m_tabs->setCurrentIndex(index);
    editor->setFocus();
    return editor;
}

void EditorArea::updateTitle(SqlEditor *editor)
{
    const int index = m_tabs->indexOf(editor);
    if (index >= 0)
        m_tabs->setTabText(index, editor->displayName() + (editor->isDirty() ? u" ●"_qs : QString()));
}

SqlEditor *EditorArea::currentEditor() const
{
    return qobject_cast<SqlEditor *>(m_tabs->currentWidget());
}

QList<SqlEditor *> EditorArea::editors() const
{
    QList<SqlEditor *> list;
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto *e = qobject_cast<SqlEditor *>(m_tabs->widget(i)))
            list << e;
    return list;
}

int EditorArea::count() const
{
    return m_tabs->count();
}

Core::Status EditorArea::saveCurrent()
{
    SqlEditor *e = currentEditor();
    if (!e)
        return {};
    if (e->path().isEmpty()) {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save query"), QString(), tr("SQL files (*.sql)"));
        if (path.isEmpty())
            return {};
        Core::Status s = e->saveAs(path);
        updateTitle(e);
        m_tabs->setTabToolTip(m_tabs->indexOf(e), e->path());
        return s;
    }
    return e->save();
}

Core::Status EditorArea::saveAll()
{
    // Scratch editors have no file and are not part of the project: left alone.
    for (SqlEditor *e : editors())
        if (e->isDirty() && !e->path().isEmpty())
            if (Core::Status s = e->save(); !s)
                return s;
    return {};
}

bool EditorArea::hasUnsaved() const
{
    for (SqlEditor *e : editors())
        if (e->isDirty() && !e->path().isEmpty())
            return true;
    return false;
}

bool EditorArea::closeEditor(SqlEditor *editor)
{
    if (!editor)
        return false;
    if (editor->isDirty() && !editor->path().isEmpty()) {
        const auto answer = QMessageBox::question(this, tr("Unsaved changes"), tr("Save %1 before closing?").arg(editor->displayName()),
                                                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
        if (answer == QMessageBox::Cancel)
            return false;
        if (answer == QMessageBox::Save) {
            if (Core::Status s = editor->save(); !s) {
                QMessageBox::warning(this, tr("Save failed"), s.error().toString());
                return false;
            }
        }
    }
    m_tabs->removeTab(m_tabs->indexOf(editor));
    editor->deleteLater();
    return true;
}

bool EditorArea::maybeCloseAll()
{
    if (!hasUnsaved())
        return true;
    const auto answer = QMessageBox::question(this, tr("Unsaved changes"), tr("Save all modified files?"),
                                              QMessageBox::SaveAll | QMessageBox::Discard | QMessageBox::Cancel);
    if (answer == QMessageBox::Cancel)
        return false;
    if (answer == QMessageBox::SaveAll) {
        if (Core::Status s = saveAll(); !s) {
            QMessageBox::warning(this, tr("Save failed"), s.error().toString());
            return false;
        }
    }
    return true;
}

void EditorArea::closeAll()
{
    while (m_tabs->count() > 0) {
        QWidget *w = m_tabs->widget(0);
        m_tabs->removeTab(0);
        w->deleteLater();
    }
}

void EditorArea::clearAllErrors()
{
    for (SqlEditor *e : editors())
        e->clearErrors();
}

void EditorArea::setCompletionWords(const QStringList &words)
{
    m_completionWords = words;
    for (SqlEditor *e : editors())
        e->setCompletionWords(words);
}

void EditorArea::setDark(bool dark)
{
    m_dark = dark;
    for (SqlEditor *e : editors())
        e->setDark(dark);
}

void EditorArea::setEditorFont(const QFont &font)
{
    m_font = font;
    for (SqlEditor *e : editors())
        e->setEditorFont(font);
}

} // namespace Studio
