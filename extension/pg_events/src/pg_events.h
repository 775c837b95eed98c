/*-------------------------------------------------------------------------
 *
 * pg_events.h
 *		Shared declarations of the pg_events extension and output plugin.
 *
 * src/pg_events.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_EVENTS_H
#define PG_EVENTS_H

#include "access/htup.h"
#include "access/tupconvert.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "replication/logical.h"
#include "utils/rel.h"

/* Version of the JSON documents written by the plugin ("v" key). */
#define PGE_FORMAT_VERSION			1

/* Prefix of the logical messages written by pg_events.emit(). */
#define PGE_MESSAGE_PREFIX			"pg_events"

/* Where the tracking table lives. */
#define PGE_SCHEMA_NAME				"pg_events"
#define PGE_TRACKED_TABLE_NAME		"tracked_tables"

/* Append a string literal without strlen(). */
#define PGE_APPEND_LITERAL(out, lit) \
	appendBinaryStringInfo((out), (lit), sizeof(lit) - 1)

/* Longest accepted channel name, in bytes. */
#define PGE_CHANNEL_MAXLEN			63

/*
 * How a column value is written.  Decided once per column from the base type
 * so that the per-value path is a switch, not a catalog lookup.
 */
typedef enum PgeCategory
{
	PGE_CAT_OUTPUT,				/* output function, JSON string */
	PGE_CAT_BOOL,
	PGE_CAT_INT2,
	PGE_CAT_INT4,
	PGE_CAT_INT8,
	PGE_CAT_OID,
	PGE_CAT_FLOAT4,
	PGE_CAT_FLOAT8,
	PGE_CAT_NUMERIC,
	PGE_CAT_TEXT,				/* text, varchar, bpchar */
	PGE_CAT_NAME,
	PGE_CAT_JSON,
	PGE_CAT_JSONB,
	PGE_CAT_BYTEA,
	PGE_CAT_UUID,
	PGE_CAT_DATE,
	PGE_CAT_TIMESTAMP,
	PGE_CAT_TIMESTAMPTZ,
	PGE_CAT_INTERVAL
} PgeCategory;

/* Per-column information of a relation reported to consumers. */
typedef struct PgeColumn
{
	bool		dropped;		/* attisdropped: never written */
	bool		varlena;		/* attlen == -1: may be a TOAST pointer */
	PgeCategory category;
	char	   *key;			/* pre-escaped "name": */
	int			keylen;
	char	   *name;			/* pre-escaped "name" */
	int			namelen;
	FmgrInfo	outfunc;		/* only for PGE_CAT_OUTPUT and NUMERIC */
} PgeColumn;

/*
 * Per-relation cache entry, keyed by the OID of the relation a change belongs
 * to.  For a partition reported under its tracked root, the column
 * information describes the root and "map" converts tuples.
 */
typedef struct PgeRelInfo
{
	Oid			relid;			/* hash key; must be first */
	bool		valid;			/* false after a relcache invalidation */
	uint64		generation;		/* tracked-set generation it was built for */
	Oid			emit_relid;		/* reported relation; InvalidOid: untracked */
	MemoryContext cxt;			/* owns everything below */
	char	   *header;			/* ","schema":"s","table":"t","relid":n */
	int			headerlen;
	char	   *pk;				/* ,"pk":["a","b"] */
	int			pklen;
	TupleDesc	indesc;			/* copy of the changed relation's descriptor */
	TupleDesc	outdesc;		/* descriptor of the reported relation */
	TupleConversionMap *map;	/* indesc to outdesc, or NULL */
	int			natts;			/* outdesc->natts */
	PgeColumn  *columns;		/* natts entries */
	Datum	   *values;			/* deform buffers, natts entries */
	bool	   *nulls;
} PgeRelInfo;

/* relinfo.c */
extern void pge_cache_init(void);
extern void pge_cache_reset(void);
extern void pge_tracked_reload(LogicalDecodingContext *ctx);
extern bool pge_tracked_loaded(void);
extern Oid	pge_tracked_table_relid(void);
extern PgeRelInfo *pge_get_relinfo(Relation relation);

/* jsonout.c */
extern void pge_json_string(StringInfo out, const char *s, int len);
extern void pge_json_string_cstr(StringInfo out, const char *s);
extern void pge_json_minified(StringInfo out, const char *s, int len);
extern void pge_json_uint64(StringInfo out, uint64 value);
extern void pge_json_lsn(StringInfo out, XLogRecPtr lsn);
extern void pge_json_utc_time(StringInfo out, TimestampTz ts);
extern PgeCategory pge_category_for_type(Oid typid);
extern void pge_json_value(StringInfo out, PgeColumn *col, Datum value);

/* emit.c */
extern bool pge_channel_is_valid(const char *channel, int len);

#endif							/* PG_EVENTS_H */
