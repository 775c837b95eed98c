/*-------------------------------------------------------------------------
 *
 * jsonout.c
 *		JSON encoding of PostgreSQL values for the pg_events output plugin.
 *
 * Everything here appends to a StringInfo without intermediate allocations
 * where the type allows it: strings are escaped with a lookup table,
 * integers and floats are converted in local buffers, and only types
 * without a fast path go through their output function (whose result lives
 * in the per-change memory context the caller resets).
 *
 * The encoding of every type is documented in docs/pg_events.md.
 *
 * src/jsonout.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "pg_events.h"

static void pge_append_quoted_ascii(StringInfo out, const char *s, int len);
static int	pge_hex32(char *dst, uint32 v);
static inline char *pge_digits(char *dst, int v, int n);
static void pge_json_timestamp(StringInfo out, Timestamp ts, bool with_zone);
static void pge_json_interval(StringInfo out, Interval *span);
static void pge_json_bytea(StringInfo out, Datum value);
static void pge_json_uuid(StringInfo out, Datum value);
static void pge_json_float8(StringInfo out, double d);
static void pge_json_float4(StringInfo out, float f);
static void pge_json_int64(StringInfo out, int64 value);

static const char pge_hex[] = "0123456789abcdef";

/*
 * What to write after a backslash for each byte: 0 means the byte is copied
 * as is, 'u' means \u00XX.  Bytes >= 0x80 are parts of UTF-8 sequences and
 * are copied unchanged (the database encoding is checked to be UTF8).
 */
static const char pge_escape[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
	/* the rest (0x60 .. 0xff) is zero-initialized */
};

/*
 * Append s (len bytes, no terminator needed) as a JSON string.
 */
void
pge_json_string(StringInfo out, const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	const unsigned char *run = p;

	/* the common case needs no escapes: reserve once */
	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';

	for (; p < end; p++)
	{
		char		e = pge_escape[*p];

		if (likely(e == 0))
			continue;
		if (p > run)
			appendBinaryStringInfo(out, (const char *) run, p - run);
		if (e == 'u')
		{
			char		buf[6];

			buf[0] = '\\';
			buf[1] = 'u';
			buf[2] = '0';
			buf[3] = '0';
			buf[4] = pge_hex[*p >> 4];
			buf[5] = pge_hex[*p & 0x0f];
			appendBinaryStringInfo(out, buf, 6);
		}
		else
		{
			char		buf[2];

			buf[0] = '\\';
			buf[1] = e;
			appendBinaryStringInfo(out, buf, 2);
		}
		run = p + 1;
	}
	if (p > run)
		appendBinaryStringInfo(out, (const char *) run, p - run);
	appendStringInfoCharMacro(out, '"');
}

/*
 * Append a NUL-terminated string as a JSON string.
 */
void
pge_json_string_cstr(StringInfo out, const char *s)
{
	pge_json_string(out, s, strlen(s));
}

/*
 * Append text known to need no escaping (digits, letters, '-', ':' ...)
 * between double quotes.
 */
static void
pge_append_quoted_ascii(StringInfo out, const char *s, int len)
{
	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';
	memcpy(out->data + out->len, s, len);
	out->len += len;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
}

/*
 * Append a valid JSON text without insignificant whitespace.
 *
 * The input must already be valid JSON (json/jsonb values, checked message
 * payloads): only the string state is tracked so that whitespace inside
 * strings is kept.  This keeps every document on one line.
 */
void
pge_json_minified(StringInfo out, const char *s, int len)
{
	const char *p = s;
	const char *end = s + len;
	bool		in_string = false;
	char	   *dst;

	enlargeStringInfo(out, len);
	dst = out->data + out->len;

	for (; p < end; p++)
	{
		char		c = *p;

		if (in_string)
		{
			*dst++ = c;
			if (c == '\\' && p + 1 < end)
				*dst++ = *++p;
			else if (c == '"')
				in_string = false;
		}
		else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		else
		{
			*dst++ = c;
			if (c == '"')
				in_string = true;
		}
	}
	out->len = dst - out->data;
	out->data[out->len] = '\0';
}

/*
 * Append an unsigned integer as a JSON number.
 */
void
pge_json_uint64(StringInfo out, uint64 value)
{
	char		buf[24];
	char	   *p = buf + sizeof(buf);
	int			n;

	do
	{
		*--p = '0' + (char) (value % 10);
		value /= 10;
	} while (value != 0);
	n = buf + sizeof(buf) - p;
	appendBinaryStringInfo(out, p, n);
}

/*
 * Append a signed integer as a JSON number.
 */
static void
pge_json_int64(StringInfo out, int64 value)
{
	if (value < 0)
	{
		appendStringInfoCharMacro(out, '-');
		/* negate in unsigned arithmetic: PG_INT64_MIN has no positive twin */
		pge_json_uint64(out, (uint64) 0 - (uint64) value);
	}
	else
		pge_json_uint64(out, (uint64) value);
}

/*
 * Write the upper-case hex digits of v (no leading zeros) to dst; return
 * the number of characters.
 */
static int
pge_hex32(char *dst, uint32 v)
{
	static const char hexu[] = "0123456789ABCDEF";
	char		tmp[8];
	int			n = 0;
	int			i;

	do
	{
		tmp[n++] = hexu[v & 0x0f];
		v >>= 4;
	} while (v != 0);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

/*
 * Append an LSN as a JSON string in the usual "X/X" notation.
 */
void
pge_json_lsn(StringInfo out, XLogRecPtr lsn)
{
	char	   *dst;

	enlargeStringInfo(out, 20);
	dst = out->data + out->len;
	*dst++ = '"';
	dst += pge_hex32(dst, (uint32) (lsn >> 32));
	*dst++ = '/';
	dst += pge_hex32(dst, (uint32) lsn);
	*dst++ = '"';
	out->len = dst - out->data;
	out->data[out->len] = '\0';
}

/* Write n decimal digits of v, zero-padded. */
static inline char *
pge_digits(char *dst, int v, int n)
{
	for (int i = n - 1; i >= 0; i--)
	{
		dst[i] = '0' + (v % 10);
		v /= 10;
	}
	return dst + n;
}

/*
 * Append a timestamp as "YYYY-MM-DDTHH:MM:SS.ffffff" (plus "Z" for UTC
 * instants).  Years outside 1..9999 and infinities use PostgreSQL's own
 * JSON encoding of the value ("infinity", BC years).
 */
static void
pge_json_timestamp(StringInfo out, Timestamp ts, bool with_zone)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];

	if (!TIMESTAMP_NOT_FINITE(ts) &&
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) == 0 &&
		tm.tm_year >= 1 && tm.tm_year <= 9999)
	{
		char	   *dst;

		enlargeStringInfo(out, 32);
		dst = out->data + out->len;
		*dst++ = '"';
		dst = pge_digits(dst, tm.tm_year, 4);
		*dst++ = '-';
		dst = pge_digits(dst, tm.tm_mon, 2);
		*dst++ = '-';
		dst = pge_digits(dst, tm.tm_mday, 2);
		*dst++ = 'T';
		dst = pge_digits(dst, tm.tm_hour, 2);
		*dst++ = ':';
		dst = pge_digits(dst, tm.tm_min, 2);
		*dst++ = ':';
		dst = pge_digits(dst, tm.tm_sec, 2);
		*dst++ = '.';
		dst = pge_digits(dst, fsec, 6);
		if (with_zone)
			*dst++ = 'Z';
		*dst++ = '"';
		out->len = dst - out->data;
		out->data[out->len] = '\0';
		return;
	}

	if (with_zone)
	{
		const int	utc = 0;

		JsonEncodeDateTime(buf, TimestampTzGetDatum(ts), TIMESTAMPTZOID, &utc);
	}
	else
		JsonEncodeDateTime(buf, TimestampGetDatum(ts), TIMESTAMPOID, NULL);
	pge_json_string_cstr(out, buf);
}

/*
 * Append a commit time (or any timestamptz) in UTC with microseconds.
 */
void
pge_json_utc_time(StringInfo out, TimestampTz ts)
{
	pge_json_timestamp(out, ts, true);
}

/*
 * Append an interval in ISO 8601 duration format, independent of the
 * session's IntervalStyle.
 */
static void
pge_json_interval(StringInfo out, Interval *span)
{
	char		buf[MAXDATELEN + 1];

#if PG_VERSION_NUM >= 170000
	if (INTERVAL_NOT_FINITE(span))
	{
		pge_json_string_cstr(out, INTERVAL_IS_NOBEGIN(span) ? "-infinity" : "infinity");
		return;
	}
#endif
#if PG_VERSION_NUM >= 150000
	{
		struct pg_itm itm;

		interval2itm(*span, &itm);
		EncodeInterval(&itm, INTSTYLE_ISO_8601, buf);
	}
#else
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (interval2tm(*span, &tm, &fsec) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("interval out of range")));
		EncodeInterval(&tm, fsec, INTSTYLE_ISO_8601, buf);
	}
#endif
	pge_json_string_cstr(out, buf);
}

/*
 * Append a bytea as a "\\x..." hex string, whatever bytea_output says.
 */
static void
pge_json_bytea(StringInfo out, Datum value)
{
	bytea	   *b = DatumGetByteaPP(value);
	const unsigned char *p = (const unsigned char *) VARDATA_ANY(b);
	int			len = VARSIZE_ANY_EXHDR(b);
	char	   *dst;
	int			i;

	enlargeStringInfo(out, len * 2 + 6);
	dst = out->data + out->len;
	*dst++ = '"';
	*dst++ = '\\';
	*dst++ = '\\';
	*dst++ = 'x';
	for (i = 0; i < len; i++)
	{
		*dst++ = pge_hex[p[i] >> 4];
		*dst++ = pge_hex[p[i] & 0x0f];
	}
	*dst++ = '"';
	out->len = dst - out->data;
	out->data[out->len] = '\0';
}

/*
 * Append a uuid in its canonical lower-case form.
 */
static void
pge_json_uuid(StringInfo out, Datum value)
{
	pg_uuid_t  *u = DatumGetUUIDP(value);
	char		buf[40];
	char	   *dst = buf;
	int			i;

	*dst++ = '"';
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*dst++ = '-';
		*dst++ = pge_hex[u->data[i] >> 4];
		*dst++ = pge_hex[u->data[i] & 0x0f];
	}
	*dst++ = '"';
	appendBinaryStringInfo(out, buf, dst - buf);
}

/*
 * Append a float8: shortest exact decimal as a JSON number; NaN and the
 * infinities, which JSON cannot express, as strings.
 */
static void
pge_json_float8(StringInfo out, double d)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	int			n;

	if (isnan(d))
		PGE_APPEND_LITERAL(out, "\"NaN\"");
	else if (isinf(d))
	{
		if (d > 0)
			PGE_APPEND_LITERAL(out, "\"Infinity\"");
		else
			PGE_APPEND_LITERAL(out, "\"-Infinity\"");
	}
	else
	{
		n = double_to_shortest_decimal_buf(d, buf);
		appendBinaryStringInfo(out, buf, n);
	}
}

/*
 * Append a float4, same rules as float8.
 */
static void
pge_json_float4(StringInfo out, float f)
{
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];
	int			n;

	if (isnan(f))
		PGE_APPEND_LITERAL(out, "\"NaN\"");
	else if (isinf(f))
	{
		if (f > 0)
			PGE_APPEND_LITERAL(out, "\"Infinity\"");
		else
			PGE_APPEND_LITERAL(out, "\"-Infinity\"");
	}
	else
	{
		n = float_to_shortest_decimal_buf(f, buf);
		appendBinaryStringInfo(out, buf, n);
	}
}

/*
 * Map a type to its encoding category.  Domains use their base type.
 */
PgeCategory
pge_category_for_type(Oid typid)
{
	switch (getBaseType(typid))
	{
		case BOOLOID:
			return PGE_CAT_BOOL;
		case INT2OID:
			return PGE_CAT_INT2;
		case INT4OID:
			return PGE_CAT_INT4;
		case INT8OID:
			return PGE_CAT_INT8;
		case OIDOID:
			return PGE_CAT_OID;
		case FLOAT4OID:
			return PGE_CAT_FLOAT4;
		case FLOAT8OID:
			return PGE_CAT_FLOAT8;
		case NUMERICOID:
			return PGE_CAT_NUMERIC;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return PGE_CAT_TEXT;
		case NAMEOID:
			return PGE_CAT_NAME;
		case JSONOID:
			return PGE_CAT_JSON;
		case JSONBOID:
			return PGE_CAT_JSONB;
		case BYTEAOID:
			return PGE_CAT_BYTEA;
		case UUIDOID:
			return PGE_CAT_UUID;
		case DATEOID:
			return PGE_CAT_DATE;
		case TIMESTAMPOID:
			return PGE_CAT_TIMESTAMP;
		case TIMESTAMPTZOID:
			return PGE_CAT_TIMESTAMPTZ;
		case INTERVALOID:
			return PGE_CAT_INTERVAL;
		default:
			return PGE_CAT_OUTPUT;
	}
}

/*
 * Append one non-NULL column value.  The caller has already excluded NULLs
 * and unchanged TOAST pointers.
 */
void
pge_json_value(StringInfo out, PgeColumn *col, Datum value)
{
	switch (col->category)
	{
		case PGE_CAT_BOOL:
			if (DatumGetBool(value))
				PGE_APPEND_LITERAL(out, "true");
			else
				PGE_APPEND_LITERAL(out, "false");
			break;
		case PGE_CAT_INT2:
			pge_json_int64(out, DatumGetInt16(value));
			break;
		case PGE_CAT_INT4:
			pge_json_int64(out, DatumGetInt32(value));
			break;
		case PGE_CAT_INT8:
			pge_json_int64(out, DatumGetInt64(value));
			break;
		case PGE_CAT_OID:
			pge_json_uint64(out, DatumGetObjectId(value));
			break;
		case PGE_CAT_FLOAT4:
			pge_json_float4(out, DatumGetFloat4(value));
			break;
		case PGE_CAT_FLOAT8:
			pge_json_float8(out, DatumGetFloat8(value));
			break;
		case PGE_CAT_NUMERIC:
			{
				char	   *s = OutputFunctionCall(&col->outfunc, value);

				pge_append_quoted_ascii(out, s, strlen(s));
				break;
			}
		case PGE_CAT_TEXT:
			{
				text	   *t = DatumGetTextPP(value);

				pge_json_string(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case PGE_CAT_NAME:
			pge_json_string_cstr(out, NameStr(*DatumGetName(value)));
			break;
		case PGE_CAT_JSON:
			{
				text	   *t = DatumGetTextPP(value);

				pge_json_minified(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case PGE_CAT_JSONB:
			{
				char	   *s = OutputFunctionCall(&col->outfunc, value);

				pge_json_minified(out, s, strlen(s));
				break;
			}
		case PGE_CAT_BYTEA:
			pge_json_bytea(out, value);
			break;
		case PGE_CAT_UUID:
			pge_json_uuid(out, value);
			break;
		case PGE_CAT_DATE:
			{
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, value, DATEOID, NULL);
				pge_json_string_cstr(out, buf);
				break;
			}
		case PGE_CAT_TIMESTAMP:
			pge_json_timestamp(out, DatumGetTimestamp(value), false);
			break;
		case PGE_CAT_TIMESTAMPTZ:
			pge_json_timestamp(out, DatumGetTimestampTz(value), true);
			break;
		case PGE_CAT_INTERVAL:
			pge_json_interval(out, DatumGetIntervalP(value));
			break;
		case PGE_CAT_OUTPUT:
			pge_json_string_cstr(out, OutputFunctionCall(&col->outfunc, value));
			break;
	}
}
