#pragma once

#include "result.h"

#include <Qsci/qsciscintilla.h>

#include <QDateTime>
#include <QStringList>

class QFileSystemWatcher;
class QsciAPIs;

namespace Studio {

class SqlLexer;

// One SQL file in a QScintilla editor: PostgreSQL/PL/pgSQL highlighting, line numbers,
// folding, catalog completion, save/dirty state, reload when the file changes on disk, and
// error markers at the line and column PostgreSQL reported.
class SqlEditor : public QsciScintilla
{
    Q_OBJECT
public:
    explicit SqlEditor(QWidget *parent = nullptr);
    ~SqlEditor() override;

    Core::Status load(const QString &path);
    Core::Status save();
    Core::Status saveAs(const QString &path);
    const QString &path() const { return m_path; }
    QString displayName() const;
    bool isDirty() const { return isModified(); }

    // A marker on the line, a squiggle from the column to the end of the word, and the
    // message as an annotation under the line. 1-based line and column.
    void showError(int line, int column, const QString &message);
    void clearErrors();
    // 1-based lines with an error marker.
    QList<int> errorLines() const;
    QString errorMessage(int line) const;

    // Words for completion: schema, schema.table, table.column, function(args) ...
    void setCompletionWords(const QStringList &words);
    void setDark(bool dark);
    void setEditorFont(const QFont &font);

    // The text to run: the selection if there is one, else everything; `offset` receives
    // where it starts in text() (in QChars).
    QString runnableText(qsizetype *offset) const;

Q_SIGNALS:
    void dirtyChanged(bool dirty);
    void reloaded();

private:
    void onFileChanged();
    void watch();
    void applyMargins();

    enum { ErrorMarker = 1, ErrorLineMarker = 2, ErrorIndicator = 8 };

    SqlLexer *m_lexer = nullptr;
    QsciAPIs *m_apis = nullptr;
    QFileSystemWatcher *m_watcher = nullptr;
    QString m_path;
    QByteArray m_savedBytes;   // what we last read or wrote: a change event with the same bytes is ours
    QMap<int, QString> m_errors;
    bool m_dark = false;
};

} // namespace Studio
