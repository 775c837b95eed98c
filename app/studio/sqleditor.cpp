#include "sqleditor.h"

#include "sqllexer.h"
#include "studiologging.h"

#include <Qsci/qsciapis.h>

#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QMessageBox>
#include <QSaveFile>
#include <QTimer>

namespace Studio {

SqlEditor::SqlEditor(QWidget *parent) : QsciScintilla(parent)
{
    m_lexer = new SqlLexer(this);
    setLexer(m_lexer);
    setUtf8(true);
    setEolMode(EolUnix);
    setIndentationsUseTabs(false);
    setTabWidth(4);
    setAutoIndent(true);
    setBraceMatching(SloppyBraceMatch);
    setCaretLineVisible(true);
    setFolding(BoxedTreeFoldStyle, 2);
    setMarginType(0, NumberMargin);
    setMarginType(1, SymbolMargin);
    setMarginWidth(1, 14);
    setMarginSensitivity(1, false);
    markerDefine(QsciScintilla::Circle, ErrorMarker);
    markerDefine(QsciScintilla::Background, ErrorLineMarker);
    setMarkerBackgroundColor(QColor(0xd7, 0x3a, 0x49), ErrorMarker);
    setMarkerForegroundColor(QColor(0xd7, 0x3a, 0x49), ErrorMarker);
    indicatorDefine(SquiggleIndicator, ErrorIndicator);
    setIndicatorForegroundColor(QColor(0xd7, 0x3a, 0x49), ErrorIndicator);
    setAnnotationDisplay(AnnotationBoxed);
    setAutoCompletionSource(AcsAll);
    setAutoCompletionThreshold(2);
    setAutoCompletionCaseSensitivity(false);
    setAutoCompletionReplaceWord(false);
    setAutoCompletionUseSingle(AcusNever);
    setCallTipsStyle(CallTipsNoContext);
    m_apis = new QsciAPIs(m_lexer);
    applyMargins();
    connect(this, &QsciScintilla::modificationChanged, this, &SqlEditor::dirtyChanged);
    connect(this, &QsciScintilla::linesChanged, this, &SqlEditor::applyMargins);
    // Editing a marked line means the user is fixing it: the marker goes with the next apply.
}

SqlEditor::~SqlEditor() = default;

void SqlEditor::applyMargins()
{
    const QString widest = QString(QString::number(qMax(lines(), 99)).size() + 1, u'9');
    setMarginWidth(0, widest);
}

void SqlEditor::setDark(bool dark)
{
    m_dark = dark;
    m_lexer->setDark(dark);
    const QColor paper = dark ? QColor(0x1e, 0x1f, 0x22) : QColor(Qt::white);
    const QColor margin = dark ? QColor(0x2b, 0x2d, 0x30) : QColor(0xf3, 0xf4, 0xf6);
    const QColor marginText = dark ? QColor(0x80, 0x85, 0x8c) : QColor(0x8a, 0x90, 0x99);
    setMarginsBackgroundColor(margin);
    setMarginsForegroundColor(marginText);
    setFoldMarginColors(margin, margin);
    setCaretLineBackgroundColor(dark ? QColor(0x26, 0x28, 0x2e) : QColor(0xf0, 0xf4, 0xff));
    setCaretForegroundColor(dark ? QColor(0xdf, 0xe1, 0xe5) : QColor(Qt::black));
    setSelectionBackgroundColor(dark ? QColor(0x21, 0x42, 0x83) : QColor(0xb4, 0xd5, 0xfe));
    setMatchedBraceBackgroundColor(dark ? QColor(0x3b, 0x51, 0x4d) : QColor(0xd0, 0xf0, 0xd0));
    setMarkerBackgroundColor(dark ? QColor(0x4a, 0x25, 0x28) : QColor(0xfd, 0xe7, 0xe9), ErrorLineMarker);
    setPaper(paper);
    recolor();
    // Annotation style: a style number outside the lexer's range.
    SendScintilla(SCI_STYLESETBACK, 40L, long(dark ? 0x2a2a4a : 0xe9e7fd)); // BGR
    SendScintilla(SCI_STYLESETFORE, 40L, long(dark ? 0x9f9ff5 : 0x3a2ab0));
}

void SqlEditor::setEditorFont(const QFont &font)
{
    m_lexer->setEditorFont(font);
    setMarginsFont(font);
    applyMargins();
    recolor();
}

void SqlEditor::setCompletionWords(const QStringList &words)
{
    m_apis->clear();
    for (const QString &w : words)
        m_apis->add(w);
    m_apis->prepare(); // QScintilla prepares in its own thread
}

QString SqlEditor::displayName() const
{
    return m_path.isEmpty() ? tr("untitled.sql") : QFileInfo(m_path).fileName();
}

Core::Status SqlEditor::load(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Core::Error::io(tr("cannot open %1: %2").arg(path, f.errorString()));
    m_savedBytes = f.readAll();
    m_path = QFileInfo(path).absoluteFilePath();
    setText(QString::fromUtf8(m_savedBytes));
    setModified(false);
    watch();
    return {};
}

Core::Status SqlEditor::saveAs(const QString &path)
{
    m_path = QFileInfo(path).absoluteFilePath();
    return save();
}

Core::Status SqlEditor::save()
{
    if (m_path.isEmpty())
        return Core::Error::validation(tr("this editor has no file yet"));
    const QByteArray bytes = text().toUtf8();
    QSaveFile f(m_path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
        return Core::Error::io(tr("cannot save %1: %2").arg(m_path, f.errorString()));
    m_savedBytes = bytes;
    setModified(false);
    watch(); // QSaveFile renames a new file into place: the old inode's watch is gone
    return {};
}

void SqlEditor::watch()
{
    if (!m_watcher) {
        m_watcher = new QFileSystemWatcher(this);
        connect(m_watcher, &QFileSystemWatcher::fileChanged, this, [this] {
            // Editors and git write by rename; let the new file settle, then look.
            QTimer::singleShot(50, this, &SqlEditor::onFileChanged);
        });
    }
    if (!m_watcher->files().isEmpty())
        m_watcher->removePaths(m_watcher->files());
    if (QFileInfo::exists(m_path))
        m_watcher->addPath(m_path);
}

void SqlEditor::onFileChanged()
{
    QFile f(m_path);
    if (!f.open(QIODevice::ReadOnly)) {
        watch();
        return; // removed: keep the text; saving writes it back
    }
    const QByteArray bytes = f.readAll();
    watch();
    if (bytes == m_savedBytes)
        return;
    if (isModified()) {
        const auto answer = QMessageBox::question(this, tr("File changed on disk"),
                                                  tr("%1 was changed outside the studio, and you have unsaved edits.\n"
                                                     "Reload it and lose your edits?").arg(displayName()));
        if (answer != QMessageBox::Yes) {
            m_savedBytes = bytes; // don't ask again for the same content
            return;
        }
    }
    int line = 0, index = 0;
    getCursorPosition(&line, &index);
    const int first = firstVisibleLine();
    m_savedBytes = bytes;
    setText(QString::fromUtf8(bytes));
    setModified(false);
    setCursorPosition(qMin(line, lines() - 1), index);
    setFirstVisibleLine(first);
    qCDebug(lcStudio) << "reloaded" << m_path;
    Q_EMIT reloaded();
}

void SqlEditor::showError(int line, int column, const QString &message)
{
    if (line < 1)
        line = 1;
    if (line > lines())
        line = lines();
    const int l = line - 1;
    markerAdd(l, ErrorMarker);
    markerAdd(l, ErrorLineMarker);
    const QString lineText = text(l);
    int from = qMax(0, column - 1);
    if (from >= lineText.size())
        from = 0;
    int to = from;
    while (to < lineText.size() && (lineText.at(to).isLetterOrNumber() || lineText.at(to) == u'_'))
        ++to;
    if (to == from)
        to = qMax(from + 1, int(lineText.trimmed().isEmpty() ? from + 1 : lineText.size()));
    fillIndicatorRange(l, from, l, to, ErrorIndicator);
    annotate(l, message, 40);
    m_errors.insert(line, message);
    setCursorPosition(l, from);
    ensureLineVisible(l);
}

void SqlEditor::clearErrors()
{
    markerDeleteAll(ErrorMarker);
    markerDeleteAll(ErrorLineMarker);
    clearIndicatorRange(0, 0, qMax(0, lines() - 1), qMax(0, int(text(qMax(0, lines() - 1)).size())), ErrorIndicator);
    clearAnnotations();
    m_errors.clear();
}

QList<int> SqlEditor::errorLines() const
{
    QList<int> result;
    int line = -1;
    auto *self = const_cast<SqlEditor *>(this);
    while ((line = self->markerFindNext(line + 1, 1 << ErrorMarker)) >= 0)
        result << line + 1;
    return result;
}

QString SqlEditor::errorMessage(int line) const
{
    return m_errors.value(line);
}

QString SqlEditor::runnableText(qsizetype *offset) const
{
    if (hasSelectedText()) {
        int lineFrom, indexFrom, lineTo, indexTo;
        getSelection(&lineFrom, &indexFrom, &lineTo, &indexTo);
        // positionFromLineIndex is in bytes; count QChars of the text before the selection.
        const long bytePos = positionFromLineIndex(lineFrom, indexFrom);
        const QByteArray before = text().toUtf8().left(bytePos);
        if (offset)
            *offset = QString::fromUtf8(before).size();
        return selectedText();
    }
    if (offset)
        *offset = 0;
    return text();
}

} // namespace Studio
