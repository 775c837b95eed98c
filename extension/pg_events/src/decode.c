/*-------------------------------------------------------------------------
 *
 * decode.c
 *		Logical decoding output plugin of pg_events: one JSON document per
 *		change, framed by begin and commit documents.
 *
 * Every document is written with its own OutputPluginPrepareWrite /
 * OutputPluginWrite pair and all per-change allocations go to a memory
 * context reset after each document, so a transaction of any size is
 * streamed in constant memory.  The wire format is described in
 * docs/pg_events.md; changing it means bumping PGE_FORMAT_VERSION.
 *
 * src/decode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heapam.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "commands/dbcommands.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/output_plugin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "pg_events.h"

PG_MODULE_MAGIC;

/* The tuple of a change, whatever the server version calls it. */
#if PG_VERSION_NUM >= 170000
#define PGE_CHANGE_TUPLE(t) (t)
#else
#define PGE_CHANGE_TUPLE(t) ((t) == NULL ? NULL : &(t)->tuple)
#endif

#if PG_VERSION_NUM >= 150000
#define PGE_COMMIT_TIME(txn) ((txn)->xact_time.commit_time)
#else
#define PGE_COMMIT_TIME(txn) ((txn)->commit_time)
#endif

/* Plugin state, one per decoding session. */
typedef struct PgeData
{
	MemoryContext change_cxt;	/* reset after every document */

	/* options */
	bool		skip_empty_xacts;
	bool		include_begin_commit;

	/* current transaction */
	bool		begin_written;
	uint64		seq;			/* next sequence number */
	StringInfoData lsnseq;		/* ,"lsn":"X/X","seq": */
	StringInfoData xidtime;		/* ,"xid":N,"commit_time":"..." */
	StringInfoData txnfields;	/* ,"xid":N,"lsn":..,"end_lsn":..,"commit_time":.. */
	StringInfoData toast;		/* names of unchanged TOAST columns */
} PgeData;

void		_PG_output_plugin_init(OutputPluginCallbacks *cb);

static void pge_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
						bool is_init);
static void pge_shutdown(LogicalDecodingContext *ctx);
static void pge_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void pge_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						   XLogRecPtr commit_lsn);
static void pge_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					   Relation relation, ReorderBufferChange *change);
static void pge_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						 int nrelations, Relation relations[],
						 ReorderBufferChange *change);
static void pge_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						XLogRecPtr message_lsn, bool transactional,
						const char *prefix, Size message_size,
						const char *message);

static bool pge_parse_bool_option(DefElem *elem);
static void pge_write_begin(LogicalDecodingContext *ctx, PgeData *data,
							ReorderBufferTXN *txn, bool last_write);
static void pge_write_change_head(StringInfo out, PgeData *data,
								  const char *op, int oplen,
								  const char *header, int headerlen);
static void pge_write_tuple(StringInfo out, PgeRelInfo *ri, HeapTuple tuple,
							bool key_only, StringInfo toast);
static bool pge_valid_json(const char *s, int len);
static void pge_reload(LogicalDecodingContext *ctx, PgeData *data);

/*
 * Entry point: register the callbacks.  No streaming or two-phase
 * callbacks are provided, so every transaction is decoded once, at commit,
 * with its commit LSN and time known from the first document.
 */
void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_output_plugin_init, LogicalOutputPluginInit);

	cb->startup_cb = pge_startup;
	cb->begin_cb = pge_begin_txn;
	cb->change_cb = pge_change;
	cb->truncate_cb = pge_truncate;
	cb->commit_cb = pge_commit_txn;
	cb->message_cb = pge_message;
	cb->shutdown_cb = pge_shutdown;
}

/*
 * Parse a boolean option strictly: true/false, on/off, 1/0.
 */
static bool
pge_parse_bool_option(DefElem *elem)
{
	const char *v;

	if (elem->arg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" requires a value", elem->defname),
				 errdetail("Boolean options take true, false, on, off, 1 or 0.")));

	v = strVal(elem->arg);
	if (pg_strcasecmp(v, "true") == 0 || pg_strcasecmp(v, "on") == 0 ||
		strcmp(v, "1") == 0)
		return true;
	if (pg_strcasecmp(v, "false") == 0 || pg_strcasecmp(v, "off") == 0 ||
		strcmp(v, "0") == 0)
		return false;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for boolean option \"%s\"",
					v, elem->defname),
			 errdetail("Boolean options take true, false, on, off, 1 or 0.")));
	return false;				/* keep compiler quiet */
}

/* startup_cb: validate options, set up memory and the relation cache. */
static void
pge_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
			bool is_init)
{
	PgeData    *data;
	ListCell   *lc;

	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pg_events requires a UTF8 database"),
				 errdetail("Database \"%s\" uses encoding %s; JSON documents must be UTF-8.",
						   get_database_name(MyDatabaseId),
						   GetDatabaseEncodingName())));

	data = MemoryContextAllocZero(ctx->context, sizeof(PgeData));
	data->change_cxt = AllocSetContextCreate(ctx->context,
											 "pg_events change",
											 ALLOCSET_DEFAULT_SIZES);
	data->skip_empty_xacts = true;
	data->include_begin_commit = true;

	foreach(lc, ctx->output_plugin_options)
	{
		DefElem    *elem = (DefElem *) lfirst(lc);

		Assert(elem->arg == NULL || IsA(elem->arg, String));

		if (strcmp(elem->defname, "format-version") == 0)
		{
			if (elem->arg == NULL || strcmp(strVal(elem->arg), "1") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unsupported format-version \"%s\"",
								elem->arg ? strVal(elem->arg) : ""),
						 errdetail("This version of pg_events writes format version 1 only.")));
		}
		else if (strcmp(elem->defname, "skip-empty-xacts") == 0)
			data->skip_empty_xacts = pge_parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-begin-commit") == 0)
			data->include_begin_commit = pge_parse_bool_option(elem);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" is not recognized by pg_events",
							elem->defname),
					 errdetail("Supported options are format-version, skip-empty-xacts and include-begin-commit.")));
	}

	{
		MemoryContext old = MemoryContextSwitchTo(ctx->context);

		initStringInfo(&data->lsnseq);
		initStringInfo(&data->xidtime);
		initStringInfo(&data->txnfields);
		initStringInfo(&data->toast);
		MemoryContextSwitchTo(old);
	}

	ctx->output_plugin_private = data;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
#if PG_VERSION_NUM >= 140000
	/* documents need the commit LSN: never stream in-progress transactions */
	ctx->streaming = false;
#endif
#if PG_VERSION_NUM >= 150000
	ctx->twophase = false;
#endif

	pge_cache_init();
}

/* shutdown_cb: release the relation cache. */
static void
pge_shutdown(LogicalDecodingContext *ctx)
{
	pge_cache_reset();
}

/*
 * Read the tracked set, with temporary allocations in the change context.
 */
static void
pge_reload(LogicalDecodingContext *ctx, PgeData *data)
{
	MemoryContext old = MemoryContextSwitchTo(data->change_cxt);

	pge_tracked_reload(ctx);
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}

/*
 * Write the begin document.
 */
static void
pge_write_begin(LogicalDecodingContext *ctx, PgeData *data,
				ReorderBufferTXN *txn, bool last_write)
{
	OutputPluginPrepareWrite(ctx, last_write);
	PGE_APPEND_LITERAL(ctx->out, "{\"v\":1,\"op\":\"begin\"");
	appendBinaryStringInfo(ctx->out, data->txnfields.data, data->txnfields.len);
	appendStringInfoCharMacro(ctx->out, '}');
	OutputPluginWrite(ctx, last_write);
	data->begin_written = true;
}

/* begin_cb: reset per-transaction state, refresh the tracked set if needed. */
static void
pge_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	PgeData    *data = ctx->output_plugin_private;

	data->begin_written = false;
	data->seq = 0;

	/*
	 * Every write to pg_events.tracked_tables makes its transaction a
	 * catalog-modifying one, so the set can only change here.
	 */
	if (!pge_tracked_loaded() || rbtxn_has_catalog_changes(txn))
		pge_reload(ctx, data);

	/*
	 * Fragments repeated in every document of this transaction, formatted
	 * once: the LSNs, xid and commit time are the same for all of them.
	 */
	{
		StringInfo	f = &data->txnfields;
		int			lsn_start,
					lsn_len,
					time_start;

		resetStringInfo(f);
		PGE_APPEND_LITERAL(f, ",\"xid\":");
		pge_json_uint64(f, txn->xid);
		PGE_APPEND_LITERAL(f, ",\"lsn\":");
		lsn_start = f->len;
		pge_json_lsn(f, txn->final_lsn);
		lsn_len = f->len - lsn_start;
		PGE_APPEND_LITERAL(f, ",\"end_lsn\":");
		pge_json_lsn(f, txn->end_lsn);
		PGE_APPEND_LITERAL(f, ",\"commit_time\":");
		time_start = f->len;
		pge_json_utc_time(f, PGE_COMMIT_TIME(txn));

		resetStringInfo(&data->lsnseq);
		PGE_APPEND_LITERAL(&data->lsnseq, ",\"lsn\":");
		appendBinaryStringInfo(&data->lsnseq, f->data + lsn_start, lsn_len);
		PGE_APPEND_LITERAL(&data->lsnseq, ",\"seq\":");

		resetStringInfo(&data->xidtime);
		PGE_APPEND_LITERAL(&data->xidtime, ",\"xid\":");
		pge_json_uint64(&data->xidtime, txn->xid);
		PGE_APPEND_LITERAL(&data->xidtime, ",\"commit_time\":");
		appendBinaryStringInfo(&data->xidtime, f->data + time_start, f->len - time_start);
	}

	if (data->include_begin_commit && !data->skip_empty_xacts)
		pge_write_begin(ctx, data, txn, true);
}

/* commit_cb: write the commit document if the transaction was shown. */
static void
pge_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			   XLogRecPtr commit_lsn)
{
	PgeData    *data = ctx->output_plugin_private;

	if (!data->include_begin_commit || !data->begin_written)
	{
#if PG_VERSION_NUM >= 150000 && PG_VERSION_NUM < 160000
		/* let the walsender send keepalives through skipped transactions */
		if (data->seq == 0)
			OutputPluginUpdateProgress(ctx, true);
#endif
		return;
	}

	OutputPluginPrepareWrite(ctx, true);
	PGE_APPEND_LITERAL(ctx->out, "{\"v\":1,\"op\":\"commit\"");
	appendBinaryStringInfo(ctx->out, data->txnfields.data, data->txnfields.len);
	PGE_APPEND_LITERAL(ctx->out, ",\"count\":");
	pge_json_uint64(ctx->out, data->seq);
	appendStringInfoChar(ctx->out, '}');
	OutputPluginWrite(ctx, true);
}

/*
 * Write {"v":1,"op":"<op>"<header>,"lsn":"..","seq":N,"xid":N,"commit_time":".."
 * for a change, emitting the deferred begin document first if needed.
 */
static void
pge_write_change_head(StringInfo out, PgeData *data, const char *op, int oplen,
					  const char *header, int headerlen)
{
	PGE_APPEND_LITERAL(out, "{\"v\":1,\"op\":\"");
	appendBinaryStringInfo(out, op, oplen);
	if (header != NULL)
		appendBinaryStringInfo(out, header, headerlen);
	else
		appendStringInfoCharMacro(out, '"');
	appendBinaryStringInfo(out, data->lsnseq.data, data->lsnseq.len);
	pge_json_uint64(out, data->seq);
	appendBinaryStringInfo(out, data->xidtime.data, data->xidtime.len);
	data->seq++;
}

/*
 * Write a tuple as a JSON object.  key_only: the tuple is a replica
 * identity key, NULLs stand for columns not in the key and are left out.
 * Unchanged TOAST values are left out and their names added to toast.
 */
static void
pge_write_tuple(StringInfo out, PgeRelInfo *ri, HeapTuple tuple, bool key_only,
				StringInfo toast)
{
	bool		first = true;

	if (ri->map != NULL)
		tuple = execute_attr_map_tuple(tuple, ri->map);
	heap_deform_tuple(tuple, ri->outdesc, ri->values, ri->nulls);

	appendStringInfoCharMacro(out, '{');
	for (int i = 0; i < ri->natts; i++)
	{
		PgeColumn  *col = &ri->columns[i];

		if (col->dropped)
			continue;
		if (ri->nulls[i])
		{
			if (key_only)
				continue;
			if (!first)
				appendStringInfoCharMacro(out, ',');
			appendBinaryStringInfo(out, col->key, col->keylen);
			PGE_APPEND_LITERAL(out, "null");
			first = false;
			continue;
		}
		if (col->varlena &&
			VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(ri->values[i])))
		{
			/* not in the WAL record: flag it, never send the pointer */
			if (toast != NULL)
			{
				if (toast->len > 0)
					appendStringInfoCharMacro(toast, ',');
				appendBinaryStringInfo(toast, col->name, col->namelen);
			}
			continue;
		}
		if (!first)
			appendStringInfoCharMacro(out, ',');
		appendBinaryStringInfo(out, col->key, col->keylen);
		pge_json_value(out, col, ri->values[i]);
		first = false;
	}
	appendStringInfoCharMacro(out, '}');
}

/* change_cb: one document per INSERT, UPDATE or DELETE of a tracked table. */
static void
pge_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   Relation relation, ReorderBufferChange *change)
{
	PgeData    *data = ctx->output_plugin_private;
	PgeRelInfo *ri;
	MemoryContext old;
	HeapTuple	newtuple = NULL;
	HeapTuple	oldtuple = NULL;
	const char *op;
	int			oplen;
	bool		key_only;
	StringInfo	out;

	if (!pge_tracked_loaded())
		pge_reload(ctx, data);

	/* the tracking table itself is bookkeeping, never an event */
	if (RelationGetRelid(relation) == pge_tracked_table_relid())
		return;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			op = "insert";
			oplen = 6;
			newtuple = PGE_CHANGE_TUPLE(change->data.tp.newtuple);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			op = "update";
			oplen = 6;
			newtuple = PGE_CHANGE_TUPLE(change->data.tp.newtuple);
			oldtuple = PGE_CHANGE_TUPLE(change->data.tp.oldtuple);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			op = "delete";
			oplen = 6;
			oldtuple = PGE_CHANGE_TUPLE(change->data.tp.oldtuple);
			break;
		default:
			return;
	}

	old = MemoryContextSwitchTo(data->change_cxt);

	ri = pge_get_relinfo(relation);
	if (!OidIsValid(ri->emit_relid))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(data->change_cxt);
		return;
	}

	if (data->include_begin_commit && !data->begin_written)
		pge_write_begin(ctx, data, txn, false);

	key_only = relation->rd_rel->relreplident != REPLICA_IDENTITY_FULL;

	OutputPluginPrepareWrite(ctx, true);
	out = ctx->out;
	pge_write_change_head(out, data, op, oplen, ri->header, ri->headerlen);
	appendBinaryStringInfo(out, ri->pk, ri->pklen);

	resetStringInfo(&data->toast);
	PGE_APPEND_LITERAL(out, ",\"new\":");
	if (newtuple != NULL)
		pge_write_tuple(out, ri, newtuple, false, &data->toast);
	else
		PGE_APPEND_LITERAL(out, "null");

	PGE_APPEND_LITERAL(out, ",\"old\":");
	if (oldtuple != NULL)
		pge_write_tuple(out, ri, oldtuple, key_only, NULL);
	else
		PGE_APPEND_LITERAL(out, "null");

	if (data->toast.len > 0)
	{
		PGE_APPEND_LITERAL(out, ",\"unchanged_toast\":[");
		appendBinaryStringInfo(out, data->toast.data, data->toast.len);
		appendStringInfoCharMacro(out, ']');
	}
	appendStringInfoCharMacro(out, '}');
	OutputPluginWrite(ctx, true);

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}

/* truncate_cb: one document per truncated tracked relation. */
static void
pge_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 int nrelations, Relation relations[], ReorderBufferChange *change)
{
	PgeData    *data = ctx->output_plugin_private;
	MemoryContext old;
	Oid		   *done;
	int			ndone = 0;

	if (!pge_tracked_loaded())
		pge_reload(ctx, data);

	old = MemoryContextSwitchTo(data->change_cxt);
	done = palloc(sizeof(Oid) * Max(nrelations, 1));

	for (int i = 0; i < nrelations; i++)
	{
		PgeRelInfo *ri;
		bool		seen = false;

		if (RelationGetRelid(relations[i]) == pge_tracked_table_relid())
			continue;
		ri = pge_get_relinfo(relations[i]);
		if (!OidIsValid(ri->emit_relid))
			continue;

		/* partitions of one tracked root: report the root once */
		for (int j = 0; j < ndone; j++)
			if (done[j] == ri->emit_relid)
				seen = true;
		if (seen)
			continue;
		done[ndone++] = ri->emit_relid;

		if (data->include_begin_commit && !data->begin_written)
			pge_write_begin(ctx, data, txn, false);

		OutputPluginPrepareWrite(ctx, true);
		pge_write_change_head(ctx->out, data, "truncate", 8,
							  ri->header, ri->headerlen);
		appendStringInfoString(ctx->out, ",\"cascade\":");
		appendStringInfoString(ctx->out,
							   change->data.truncate.cascade ? "true" : "false");
		appendStringInfoString(ctx->out, ",\"restart_identity\":");
		appendStringInfoString(ctx->out,
							   change->data.truncate.restart_seqs ? "true" : "false");
		appendStringInfoChar(ctx->out, '}');
		OutputPluginWrite(ctx, true);
	}

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}

/*
 * Is s (len bytes) one valid JSON value?
 */
static bool
pge_valid_json(const char *s, int len)
{
	JsonParseErrorType result;
	char	   *copy = pnstrdup(s, len);

#if PG_VERSION_NUM >= 170000
	JsonLexContext lex;

	makeJsonLexContextCstringLen(&lex, copy, len, PG_UTF8, true);
	result = pg_parse_json(&lex, &nullSemAction);
	freeJsonLexContext(&lex);
#else
	JsonLexContext *lex = makeJsonLexContextCstringLen(copy, len, PG_UTF8, true);

	result = pg_parse_json(lex, &nullSemAction);
#endif
	return result == JSON_SUCCESS;
}

/* message_cb: transactional pg_events messages become "message" documents. */
static void
pge_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			XLogRecPtr message_lsn, bool transactional, const char *prefix,
			Size message_size, const char *message)
{
	PgeData    *data = ctx->output_plugin_private;
	MemoryContext old;
	const char *nl;
	int			chanlen;
	const char *payload;
	int			payloadlen;

	/* non-transactional messages have no commit LSN to order them by */
	if (!transactional || strcmp(prefix, PGE_MESSAGE_PREFIX) != 0)
		return;

	old = MemoryContextSwitchTo(data->change_cxt);

	nl = memchr(message, '\n', message_size);
	chanlen = nl ? nl - message : 0;
	payload = nl ? nl + 1 : NULL;
	payloadlen = nl ? message_size - chanlen - 1 : 0;
	if (nl == NULL || !pge_channel_is_valid(message, chanlen) ||
		!pge_valid_json(payload, payloadlen))
	{
		/* written by something else than pg_events.emit(): skip, loudly */
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_events skipped a malformed message with prefix \"%s\"",
						PGE_MESSAGE_PREFIX),
				 errdetail("The message ending at %X/%X does not contain a valid channel name, a newline and a JSON value.",
						   LSN_FORMAT_ARGS(message_lsn)),
				 errhint("Send messages with pg_events.emit().")));
		MemoryContextSwitchTo(old);
		MemoryContextReset(data->change_cxt);
		return;
	}

	if (data->include_begin_commit && !data->begin_written)
		pge_write_begin(ctx, data, txn, false);

	OutputPluginPrepareWrite(ctx, true);
	pge_write_change_head(ctx->out, data, "message", 7, NULL, 0);
	appendStringInfoString(ctx->out, ",\"channel\":");
	pge_json_string(ctx->out, message, chanlen);
	appendStringInfoString(ctx->out, ",\"payload\":");
	pge_json_minified(ctx->out, payload, payloadlen);
	appendStringInfoChar(ctx->out, '}');
	OutputPluginWrite(ctx, true);

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}
