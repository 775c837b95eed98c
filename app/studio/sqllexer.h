#pragma once

#include <Qsci/qscilexercustom.h>

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>

namespace Studio {

// A container lexer for PostgreSQL scripts. QsciLexerSQL knows neither dollar quoting nor
// PL/pgSQL, so a function body would be coloured as one long string or as broken SQL.
// Here `AS $tag$ ... $tag$` and `DO $$ ... $$` bodies are lexed as code (PL/pgSQL keywords
// included) on a tinted background, other dollar quotes are strings; nested block comments,
// E'' strings, quoted identifiers and $n parameters are understood. The state at each line
// end is stored in Scintilla's line state, so only changed lines are re-lexed; fold levels
// follow parentheses and bodies.
class SqlLexer : public QsciLexerCustom
{
    Q_OBJECT
public:
    enum Style {
        Default = 0,
        Comment,
        Keyword,
        String,
        Number,
        Operator,
        QuotedIdentifier,
        DollarQuote,
        Type,
        Parameter,
        StyleCount,
        BodyOffset = 16, // the same styles inside a function body
    };

    explicit SqlLexer(QObject *parent = nullptr);

    const char *language() const override { return "PostgreSQL"; }
    QString description(int style) const override;
    void styleText(int start, int end) override;
    const char *wordCharacters() const override;
    QStringList autoCompletionWordSeparators() const override;
    bool caseSensitive() const override { return false; }

    void setDark(bool dark);
    void setEditorFont(const QFont &font);

    static bool isKeyword(const QByteArray &upperWord);
    static bool isPlpgsqlKeyword(const QByteArray &upperWord);
    static bool isType(const QByteArray &upperWord);

private:
    int tagId(const QByteArray &tag);
    QByteArray tag(int id) const;

    QList<QByteArray> m_tags; // dollar-quote tags seen; a tag's id (index + 1) goes into the line state
};

} // namespace Studio
