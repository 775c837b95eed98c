#pragma once

#include "result.h"

#include <QFont>
#include <QStringList>
#include <QWidget>

class QTabWidget;

namespace Studio {

class FindBar;
class SqlEditor;

// The editors in tabs, with the find bar under them.
class EditorArea : public QWidget
{
    Q_OBJECT
public:
    explicit EditorArea(QWidget *parent = nullptr);

    // Opens (or shows) the file; nullptr and `error` on failure.
    SqlEditor *openFile(const QString &path, Core::Error *error = nullptr);
    // An editor with no file (a query scratch pad); Save asks where to put it.
    SqlEditor *newScratch(const QString &text = {});
    SqlEditor *editorFor(const QString &path) const;
    SqlEditor *currentEditor() const;
    QList<SqlEditor *> editors() const;
    int count() const;

    Core::Status saveCurrent();
    Core::Status saveAll();
    bool hasUnsaved() const;
    // Asks about unsaved files; false when the user cancels.
    bool maybeCloseAll();
    void closeAll();
    bool closeEditor(SqlEditor *editor);
    void clearAllErrors();

    void setCompletionWords(const QStringList &words);
    void setDark(bool dark);
    void setEditorFont(const QFont &font);
    FindBar *findBar() const { return m_findBar; }
    QTabWidget *tabs() const { return m_tabs; }

Q_SIGNALS:
    void currentEditorChanged(Studio::SqlEditor *editor);

private:
    void updateTitle(SqlEditor *editor);

    QTabWidget *m_tabs = nullptr;
    FindBar *m_findBar = nullptr;
    QStringList m_completionWords;
    QFont m_font;
    bool m_dark = false;
};

} // namespace Studio
