#include "sqllexer.h"

#include <Qsci/qsciscintilla.h>

#include <QColor>
#include <QFont>

namespace Studio {

namespace {

// What is open at a line end, packed into Scintilla's int line state.
enum Kind { Code = 0, BlockComment = 1, SqString = 2, EscString = 3, QIdent = 4, DollarString = 5 };

struct LexState
{
    int kind = Code;
    bool afterAs = false;   // last token was AS or DO: a dollar quote here opens a body
    int commentDepth = 0;   // nesting of /* */
    int depth = 0;          // parentheses + bodies, for folding
    int bodyTag = 0;        // tag id of the enclosing function body (0: none)
    int stringTag = 0;      // tag id of an open dollar-quoted string

    int pack() const
    {
        return (kind & 7) | (afterAs ? 8 : 0) | ((qMin(commentDepth, 15) & 15) << 4) | ((qMin(depth, 255) & 255) << 8)
               | ((bodyTag & 255) << 16) | ((stringTag & 127) << 24);
    }
    static LexState unpack(int v)
    {
        LexState s;
        s.kind = v & 7;
        s.afterAs = v & 8;
        s.commentDepth = (v >> 4) & 15;
        s.depth = (v >> 8) & 255;
        s.bodyTag = (v >> 16) & 255;
        s.stringTag = (v >> 24) & 127;
        return s;
    }
};

QSet<QByteArray> wordSet(const char *words)
{
    QSet<QByteArray> set;
    for (const QByteArray &w : QByteArray(words).split(' '))
        if (!w.isEmpty())
            set.insert(w);
    return set;
}

const QSet<QByteArray> &sqlKeywords()
{
    static const QSet<QByteArray> set = wordSet(
        "ABORT ABSOLUTE ACCESS ACTION ADD ADMIN AFTER AGGREGATE ALL ALSO ALTER ALWAYS ANALYZE AND ANY ARRAY AS ASC "
        "ASSERTION ASSIGNMENT ASYMMETRIC AT ATOMIC ATTACH AUTHORIZATION BACKWARD BEFORE BEGIN BETWEEN BOTH BY CACHE CALL "
        "CALLED CASCADE CASCADED CASE CAST CATALOG CHAIN CHECK CHECKPOINT CLASS CLOSE CLUSTER COALESCE COLLATE COLLATION "
        "COLUMN COLUMNS COMMENT COMMENTS COMMIT COMMITTED CONCURRENTLY CONFIGURATION CONFLICT CONNECTION CONSTRAINT "
        "CONSTRAINTS CONTENT CONTINUE CONVERSION COPY COST CREATE CROSS CSV CUBE CURRENT CURRENT_DATE CURRENT_ROLE "
        "CURRENT_SCHEMA CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR CYCLE DATA DATABASE DEALLOCATE DECLARE "
        "DEFAULT DEFAULTS DEFERRABLE DEFERRED DEFINER DELETE DELIMITER DEPENDS DESC DETACH DICTIONARY DISABLE DISCARD "
        "DISTINCT DO DOMAIN DROP EACH ELSE ENABLE ENCODING ENCRYPTED END ENUM ESCAPE EVENT EXCEPT EXCLUDE EXCLUDING "
        "EXCLUSIVE EXECUTE EXISTS EXPLAIN EXPRESSION EXTENSION EXTERNAL EXTRACT FALSE FAMILY FETCH FILTER FIRST "
        "FOLLOWING FOR FORCE FOREIGN FORWARD FREEZE FROM FULL FUNCTION FUNCTIONS GENERATED GLOBAL GRANT GRANTED "
        "GREATEST GROUP GROUPING GROUPS HANDLER HAVING HOLD IDENTITY IF ILIKE IMMEDIATE IMMUTABLE IMPLICIT IMPORT IN "
        "INCLUDE INCLUDING INCREMENT INDEX INDEXES INHERIT INHERITS INITIALLY INLINE INNER INOUT INPUT INSENSITIVE "
        "INSERT INSTEAD INTERSECT INTO INVOKER IS ISNULL ISOLATION JOIN KEY LABEL LANGUAGE LARGE LAST LATERAL LEADING "
        "LEAKPROOF LEAST LEFT LEVEL LIKE LIMIT LISTEN LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCK LOCKED LOGGED "
        "MAPPING MATCH MATCHED MATERIALIZED MAXVALUE MERGE METHOD MINVALUE MODE MOVE NAME NAMES NATURAL NEW NEXT NO "
        "NONE NOT NOTHING NOTIFY NOTNULL NOWAIT NULL NULLIF NULLS OBJECT OF OFF OFFSET OIDS OLD ON ONLY OPERATOR "
        "OPTION OPTIONS OR ORDER ORDINALITY OTHERS OUT OUTER OVER OVERLAPS OVERRIDING OWNED OWNER PARALLEL PARSER "
        "PARTIAL PARTITION PASSING PASSWORD PLACING PLANS POLICY PRECEDING PREPARE PREPARED PRESERVE PRIMARY PRIOR "
        "PRIVILEGES PROCEDURAL PROCEDURE PROCEDURES PROGRAM PUBLICATION QUOTE RANGE READ REASSIGN RECHECK RECURSIVE "
        "REF REFERENCES REFERENCING REFRESH REINDEX RELATIVE RELEASE RENAME REPEATABLE REPLACE REPLICA RESET RESTART "
        "RESTRICT RETURN RETURNING RETURNS REVOKE RIGHT ROLE ROLLBACK ROLLUP ROUTINE ROUTINES ROW ROWS RULE SAVEPOINT "
        "SCHEMA SCHEMAS SCROLL SEARCH SECURITY SELECT SEQUENCE SEQUENCES SERIALIZABLE SERVER SESSION SESSION_USER SET "
        "SETOF SETS SHARE SHOW SIMILAR SIMPLE SKIP SOME STABLE STANDALONE START STATEMENT STATISTICS STDIN STDOUT "
        "STORAGE STORED STRICT STRIP SUBSCRIPTION SUPPORT SYMMETRIC SYSID SYSTEM TABLE TABLES TABLESAMPLE TABLESPACE "
        "TEMP TEMPLATE TEMPORARY THEN TIES TO TRAILING TRANSACTION TRANSFORM TREAT TRIGGER TRIM TRUE TRUNCATE TRUSTED "
        "TYPE TYPES UNBOUNDED UNCOMMITTED UNENCRYPTED UNION UNIQUE UNKNOWN UNLISTEN UNLOGGED UNTIL UPDATE USAGE USER "
        "USING VACUUM VALID VALIDATE VALIDATOR VALUE VALUES VARIADIC VERBOSE VERSION VIEW VIEWS VOLATILE WHEN WHERE "
        "WINDOW WITH WITHIN WITHOUT WORK WRAPPER WRITE ZONE");
    return set;
}

const QSet<QByteArray> &plpgsqlWords()
{
    static const QSet<QByteArray> set = wordSet(
        "ALIAS ASSERT CONSTANT DEBUG DIAGNOSTICS ELSIF ELSEIF ERRCODE EXCEPTION EXIT FOREACH FOUND GET HINT INFO LOG "
        "LOOP MESSAGE NOTICE OPEN PERFORM QUERY RAISE RECORD RETURN REVERSE ROW_COUNT SLICE SQLERRM SQLSTATE STACKED "
        "STRICT TG_OP TG_TABLE_NAME TG_TABLE_SCHEMA USE_COLUMN USE_VARIABLE WARNING WHILE");
    return set;
}

const QSet<QByteArray> &typeNames()
{
    static const QSet<QByteArray> set = wordSet(
        "BIGINT BIGSERIAL BIT BOOL BOOLEAN BOX BYTEA CHAR CHARACTER CIDR CITEXT DATE DATERANGE DECIMAL DOUBLE FLOAT "
        "FLOAT4 FLOAT8 INET INT INT2 INT4 INT8 INTEGER INTERVAL JSON JSONB MONEY NUMERIC OID PRECISION REAL REGCLASS "
        "REGPROC REGTYPE SERIAL SMALLINT SMALLSERIAL TEXT TIME TIMESTAMP TIMESTAMPTZ TIMETZ TSQUERY TSRANGE TSTZRANGE "
        "TSVECTOR UUID VARCHAR VARYING VOID XML TRIGGER RECORD ANYELEMENT ANYARRAY NAME");
    return set;
}

inline bool identStart(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
inline bool identChar(unsigned char c) { return identStart(c) || (c >= '0' && c <= '9') || c == '$'; }
inline bool tagChar(unsigned char c) { return identStart(c) || (c >= '0' && c <= '9'); }
inline bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

} // namespace

SqlLexer::SqlLexer(QObject *parent) : QsciLexerCustom(parent)
{
    setDark(false);
}

bool SqlLexer::isKeyword(const QByteArray &w) { return sqlKeywords().contains(w); }
bool SqlLexer::isPlpgsqlKeyword(const QByteArray &w) { return plpgsqlWords().contains(w); }
bool SqlLexer::isType(const QByteArray &w) { return typeNames().contains(w); }

QString SqlLexer::description(int style) const
{
    static const char *names[] = {"Default", "Comment", "Keyword", "String", "Number", "Operator",
                                  "Quoted identifier", "Dollar quote", "Type", "Parameter"};
    if (style >= 0 && style < StyleCount)
        return QString::fromLatin1(names[style]);
    if (style >= BodyOffset && style < BodyOffset + StyleCount)
        return QString::fromLatin1(names[style - BodyOffset]) + u" (function body)"_qs;
    return {};
}

const char *SqlLexer::wordCharacters() const
{
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
}

QStringList SqlLexer::autoCompletionWordSeparators() const
{
    return {u"."_qs};
}

void SqlLexer::setDark(bool dark)
{
    struct C { int style; QColor light; QColor dark; bool bold; bool italic; };
    const C colours[] = {
        {Default, QColor(0x1f, 0x23, 0x28), QColor(0xdc, 0xdf, 0xe4), false, false},
        {Comment, QColor(0x6a, 0x73, 0x7d), QColor(0x7f, 0x88, 0x8f), false, true},
        {Keyword, QColor(0x00, 0x33, 0xb3), QColor(0xcf, 0x8e, 0x6d), true, false},
        {String, QColor(0x06, 0x7d, 0x17), QColor(0x6a, 0xab, 0x73), false, false},
        {Number, QColor(0x17, 0x50, 0xeb), QColor(0x2a, 0xac, 0xb8), false, false},
        {Operator, QColor(0x44, 0x44, 0x44), QColor(0xbc, 0xbe, 0xc4), false, false},
        {QuotedIdentifier, QColor(0x87, 0x10, 0x94), QColor(0xc7, 0x7d, 0xbb), false, false},
        {DollarQuote, QColor(0xa3, 0x15, 0x15), QColor(0xe0, 0x6c, 0x75), true, false},
        {Type, QColor(0x00, 0x80, 0x80), QColor(0x56, 0xb6, 0xc2), false, false},
        {Parameter, QColor(0x99, 0x5c, 0x00), QColor(0xe5, 0xc0, 0x7b), false, false},
    };
    const QColor paper = dark ? QColor(0x1e, 0x1f, 0x22) : QColor(Qt::white);
    const QColor bodyPaper = dark ? QColor(0x23, 0x26, 0x2c) : QColor(0xf6, 0xf8, 0xfc);
    setDefaultPaper(paper);
    setDefaultColor(dark ? colours[0].dark : colours[0].light);
    for (const C &c : colours) {
        for (int offset : {0, int(BodyOffset)}) {
            setColor(dark ? c.dark : c.light, c.style + offset);
            setPaper(offset ? bodyPaper : paper, c.style + offset);
            setEolFill(offset != 0, c.style + offset); // a body's tint runs to the right edge
        }
    }
    setEditorFont(defaultFont());
}

void SqlLexer::setEditorFont(const QFont &font)
{
    setDefaultFont(font);
    for (int style = 0; style < StyleCount; ++style) {
        for (int offset : {0, int(BodyOffset)}) {
            QFont f = font;
            f.setBold(style == Keyword || style == DollarQuote);
            f.setItalic(style == Comment);
            setFont(f, style + offset);
        }
    }
}

int SqlLexer::tagId(const QByteArray &tag)
{
    const qsizetype i = m_tags.indexOf(tag);
    if (i >= 0)
        return int(i) + 1;
    if (m_tags.size() >= 127) // the line state has 7 bits for it; an odd tag only mis-colours
        return 127;
    m_tags.append(tag);
    return int(m_tags.size());
}

QByteArray SqlLexer::tag(int id) const
{
    return id > 0 && id <= m_tags.size() ? m_tags.at(id - 1) : QByteArray();
}

void SqlLexer::styleText(int start, int end)
{
    QsciScintilla *ed = editor();
    if (!ed || end <= start)
        return;
    // Always from a line start, with the state the previous line ended in.
    int line = int(ed->SendScintilla(QsciScintillaBase::SCI_LINEFROMPOSITION, long(start)));
    start = int(ed->SendScintilla(QsciScintillaBase::SCI_POSITIONFROMLINE, long(line)));
    const int length = int(ed->SendScintilla(QsciScintillaBase::SCI_GETLENGTH));
    const int lastLine = int(ed->SendScintilla(QsciScintillaBase::SCI_LINEFROMPOSITION, long(end)));
    end = lastLine + 1 < ed->lines() ? int(ed->SendScintilla(QsciScintillaBase::SCI_POSITIONFROMLINE, long(lastLine + 1)))
                                     : length;
    if (end > length)
        end = length;
    QByteArray text(end - start + 1, '\0');
    ed->SendScintilla(QsciScintillaBase::SCI_GETTEXTRANGE, start, end, text.data());
    text.truncate(end - start);

    LexState st = line > 0 ? LexState::unpack(int(ed->SendScintilla(QsciScintillaBase::SCI_GETLINESTATE, long(line - 1))))
                           : LexState();
    int depthAtLineStart = st.depth;
    bool lineHasCode = false;
    startStyling(start);

    const char *s = text.constData();
    const int n = int(text.size());
    int i = 0;
    auto body = [&st](int style) { return st.bodyTag ? style + int(BodyOffset) : style; };
    auto put = [this](int len, int style) {
        if (len > 0)
            setStyling(len, style);
    };
    auto endLine = [&](bool last) {
        ed->SendScintilla(QsciScintillaBase::SCI_SETLINESTATE, long(line), long(st.pack()));
        int level = QsciScintillaBase::SC_FOLDLEVELBASE + depthAtLineStart;
        if (st.depth > depthAtLineStart)
            level |= QsciScintillaBase::SC_FOLDLEVELHEADERFLAG;
        if (!lineHasCode && st.kind == Code)
            level |= QsciScintillaBase::SC_FOLDLEVELWHITEFLAG;
        ed->SendScintilla(QsciScintillaBase::SCI_SETFOLDLEVEL, long(line), long(level));
        if (!last) {
            ++line;
            depthAtLineStart = st.depth;
            lineHasCode = false;
        }
    };
    // A closing "$tag$" at s[at]? Returns its length or 0.
    auto closesAt = [&](int at, const QByteArray &t) -> int {
        const int len = int(t.size()) + 2;
        if (at + len > n || s[at] != '$' || s[at + len - 1] != '$')
            return 0;
        return qstrncmp(s + at + 1, t.constData(), size_t(t.size())) == 0 ? len : 0;
    };

    while (i < n) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') {
            put(1, body(st.kind == Code ? Default : st.kind == BlockComment ? Comment : String));
            ++i;
            endLine(false);
            continue;
        }
        if (c != ' ' && c != '\t' && c != '\r')
            lineHasCode = true;
        const int from = i;
        switch (st.kind) {
        case BlockComment: {
            while (i < n && s[i] != '\n') {
                if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
                    i += 2;
                    if (--st.commentDepth == 0) {
                        st.kind = Code;
                        break;
                    }
                } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
                    i += 2;
                    ++st.commentDepth;
                } else {
                    ++i;
                }
            }
            put(i - from, body(Comment));
            continue;
        }
        case SqString:
        case EscString:
        case QIdent: {
            const char quote = st.kind == QIdent ? '"' : '\'';
            while (i < n && s[i] != '\n') {
                if (st.kind == EscString && s[i] == '\\' && i + 1 < n) {
                    i += 2;
                    continue;
                }
                if (s[i] == quote) {
                    if (i + 1 < n && s[i + 1] == quote) {
                        i += 2;
                        continue;
                    }
                    ++i;
                    st.kind = Code;
                    break;
                }
                ++i;
            }
            put(i - from, body(quote == '"' ? QuotedIdentifier : String));
            continue;
        }
        case DollarString: {
            const QByteArray t = tag(st.stringTag);
            int closeLen = 0;
            while (i < n && s[i] != '\n' && !(closeLen = closesAt(i, t)))
                ++i;
            if (closeLen) {
                i += closeLen;
                st.kind = Code;
                st.stringTag = 0;
            }
            put(i - from, body(String));
            continue;
        }
        default:
            break;
        }

        // Code.
        if (c == ' ' || c == '\t' || c == '\r') {
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
                ++i;
            put(i - from, body(Default));
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                ++i;
            put(i - from, body(Comment));
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            i += 2;
            st.kind = BlockComment;
            st.commentDepth = 1;
            put(i - from, body(Comment));
        } else if (c == '\'') {
            ++i;
            st.kind = SqString;
            st.afterAs = false;
            put(i - from, body(String));
        } else if (c == '"') {
            ++i;
            st.kind = QIdent;
            st.afterAs = false;
            put(i - from, body(QuotedIdentifier));
        } else if (c == '$' && i + 1 < n && digit(static_cast<unsigned char>(s[i + 1]))) {
            ++i;
            while (i < n && digit(static_cast<unsigned char>(s[i])))
                ++i;
            st.afterAs = false;
            put(i - from, body(Parameter));
        } else if (c == '$') {
            int j = i + 1;
            if (j < n && identStart(static_cast<unsigned char>(s[j])) && !(static_cast<unsigned char>(s[j]) >= 0x80))
                while (j < n && tagChar(static_cast<unsigned char>(s[j])))
                    ++j;
            if (j < n && s[j] == '$') {
                const QByteArray t(s + i + 1, j - i - 1);
                i = j + 1;
                if (st.bodyTag && tag(st.bodyTag) == t) {
                    put(i - from, DollarQuote); // closes the body
                    st.bodyTag = 0;
                    st.depth = qMax(0, st.depth - 1);
                } else if (!st.bodyTag && st.afterAs) {
                    put(i - from, DollarQuote); // opens a body
                    st.bodyTag = tagId(t);
                    ++st.depth;
                } else {
                    put(i - from, body(DollarQuote)); // a dollar-quoted string
                    st.kind = DollarString;
                    st.stringTag = tagId(t);
                }
                st.afterAs = false;
            } else {
                ++i;
                put(1, body(Operator));
            }
        } else if (digit(c) || (c == '.' && i + 1 < n && digit(static_cast<unsigned char>(s[i + 1])))) {
            while (i < n && (digit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '_'))
                ++i;
            if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                int j = i + 1;
                if (j < n && (s[j] == '+' || s[j] == '-'))
                    ++j;
                if (j < n && digit(static_cast<unsigned char>(s[j]))) {
                    i = j;
                    while (i < n && digit(static_cast<unsigned char>(s[i])))
                        ++i;
                }
            }
            st.afterAs = false;
            put(i - from, body(Number));
        } else if (identStart(c)) {
            while (i < n && identChar(static_cast<unsigned char>(s[i])))
                ++i;
            const QByteArray word = QByteArray(s + from, i - from).toUpper();
            if (i < n && s[i] == '\'' && (word == "E" || word == "X" || word == "B" || word == "N")) {
                // E'...' (backslash escapes), X'..', B'..': the prefix belongs to the string.
                ++i;
                st.kind = word == "E" ? EscString : SqString;
                st.afterAs = false;
                put(i - from, body(String));
                continue;
            }
            int style = Default;
            if (typeNames().contains(word))
                style = Type;
            else if (sqlKeywords().contains(word) || (st.bodyTag && plpgsqlWords().contains(word)))
                style = Keyword;
            st.afterAs = word == "AS" || word == "DO";
            put(i - from, body(style));
        } else {
            if (c == '(')
                ++st.depth;
            else if (c == ')')
                st.depth = qMax(0, st.depth - 1);
            ++i;
            st.afterAs = false;
            put(1, body(Operator));
        }
    }
    endLine(true);
}

} // namespace Studio
