#include "sqlsplitter.h"

namespace Core {

static bool isIdentStart(QChar c)
{
    return c.isLetter() || c == u'_' || c.unicode() >= 0x80;
}

static bool isIdentChar(QChar c)
{
    return isIdentStart(c) || c.isDigit() || c == u'$';
}

std::pair<int, int> SqlSplitter::lineColumnAt(const QString &script, qsizetype index)
{
    int line = 1;
    int column = 1;
    for (qsizetype i = 0; i < index && i < script.size(); ++i) {
        if (script[i] == u'\n') {
            ++line;
            column = 1;
        } else if (!script[i].isLowSurrogate()) {
            ++column; // a surrogate pair is one character, as PostgreSQL counts
        }
    }
    return {line, column};
}

std::pair<int, int> SqlSplitter::lineColumn(const QString &script, qsizetype offset,
                                            const QString &statementText, int position)
{
    // PostgreSQL counts characters (code points); QString counts UTF-16 units.
    qsizetype index = 0;
    int chars = 1;
    while (index < statementText.size() && chars < position) {
        if (statementText[index].isHighSurrogate() && index + 1 < statementText.size())
            ++index;
        ++index;
        ++chars;
    }
    return lineColumnAt(script, offset + index);
}

Result<std::vector<SqlSplitter::Statement>> SqlSplitter::split(const QString &script)
{
    std::vector<Statement> out;
    const qsizetype n = script.size();
    qsizetype i = 0;
    int parenDepth = 0;
    int atomicDepth = 0;          // inside BEGIN ATOMIC ... END
    QString previousWord;
    bool sawCode = false;         // the current statement has more than blanks and comments
    qsizetype codeStart = -1;

    auto error = [&](qsizetype at, const QString &message, const QString &hint) {
        const auto [line, column] = lineColumnAt(script, at);
        Error e = Error::validation(message, hint);
        e.line = line;
        e.column = column;
        return e;
    };
    auto flush = [&](qsizetype end) {
        if (sawCode && end > codeStart) {
            Statement s;
            s.offset = codeStart;
            s.text = script.mid(codeStart, end - codeStart);
            const auto [line, column] = lineColumnAt(script, codeStart);
            s.line = line;
            s.column = column;
            out.push_back(std::move(s));
        }
        sawCode = false;
        codeStart = -1;
        previousWord.clear();
    };
    auto markCode = [&](qsizetype at) {
        if (!sawCode) {
            sawCode = true;
            codeStart = at;
        }
    };

    while (i < n) {
        const QChar c = script[i];
        const QChar next = i + 1 < n ? script[i + 1] : QChar();
        if (c == u'-' && next == u'-') {
            while (i < n && script[i] != u'\n')
                ++i;
            continue;
        }
        if (c == u'/' && next == u'*') {
            const qsizetype open = i;
            int depth = 1;
            i += 2;
            while (i < n && depth > 0) {
                if (script[i] == u'/' && i + 1 < n && script[i + 1] == u'*') {
                    ++depth;
                    i += 2;
                } else if (script[i] == u'*' && i + 1 < n && script[i + 1] == u'/') {
                    --depth;
                    i += 2;
                } else {
                    ++i;
                }
            }
            if (depth > 0)
                return error(open, u"unterminated /* comment"_qs, u"Close it with */."_qs);
            continue;
        }
        if (c == u'\\' && !sawCode) {
            // Only at the start of a statement: elsewhere a backslash is part of an operator or string.
            return error(i, u"psql meta-commands (\\%1...) are not supported in migration files"_qs.arg(next),
                         u"Use plain SQL; for \\i, split the file or use a repeatable function file."_qs);
        }
        if (c.isSpace()) {
            ++i;
            continue;
        }
        markCode(i);
        if (c == u'\'' || ((c == u'E' || c == u'e') && next == u'\'' &&
                           (i == 0 || !isIdentChar(script[i - 1])))) {
            const bool escapes = c != u'\'';
            const qsizetype open = i;
            i += escapes ? 2 : 1;
            bool closed = false;
            while (i < n) {
                if (escapes && script[i] == u'\\') {
                    i += 2;
                    continue;
                }
                if (script[i] == u'\'') {
                    if (i + 1 < n && script[i + 1] == u'\'') {
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                ++i;
            }
            if (!closed)
                return error(open, u"unterminated quoted string"_qs, u"Close the string with '."_qs);
            previousWord.clear();
            continue;
        }
        if (c == u'"') {
            const qsizetype open = i;
            ++i;
            bool closed = false;
            while (i < n) {
                if (script[i] == u'"') {
                    if (i + 1 < n && script[i + 1] == u'"') {
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                ++i;
            }
            if (!closed)
                return error(open, u"unterminated quoted identifier"_qs, u"Close the identifier with \"."_qs);
            previousWord.clear();
            continue;
        }
        if (c == u'$' && (i == 0 || !isIdentChar(script[i - 1]))) {
            // $tag$ ... $tag$ (tag may be empty); $1 is a parameter, not a quote.
            qsizetype j = i + 1;
            if (j < n && !script[j].isDigit()) {
                while (j < n && (isIdentStart(script[j]) || script[j].isDigit()))
                    ++j;
                if (j < n && script[j] == u'$') {
                    const QString tag = script.mid(i, j - i + 1);
                    const qsizetype close = script.indexOf(tag, j + 1);
                    if (close < 0)
                        return error(i, u"unterminated dollar-quoted string %1"_qs.arg(tag),
                                     u"Close the body with %1."_qs.arg(tag));
                    i = close + tag.size();
                    previousWord.clear();
                    continue;
                }
            }
            ++i;
            continue;
        }
        if (isIdentStart(c)) {
            qsizetype j = i;
            while (j < n && isIdentChar(script[j]))
                ++j;
            const QString word = script.mid(i, j - i).toUpper();
            if (word == u"ATOMIC"_qs && previousWord == u"BEGIN"_qs)
                ++atomicDepth;
            else if (atomicDepth > 0 && word == u"CASE"_qs)
                ++atomicDepth;
            else if (atomicDepth > 0 && word == u"END"_qs)
                --atomicDepth;
            previousWord = word;
            i = j;
            continue;
        }
        if (c == u'(')
            ++parenDepth;
        else if (c == u')' && parenDepth > 0)
            --parenDepth;
        else if (c == u';' && parenDepth == 0 && atomicDepth == 0) {
            flush(i);
            ++i;
            continue;
        }
        previousWord.clear();
        ++i;
    }
    flush(n);
    return out;
}

} // namespace Core
