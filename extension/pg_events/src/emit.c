/*-------------------------------------------------------------------------
 *
 * emit.c
 *		pg_events.emit(): transactional application messages.
 *
 * A message is a transactional logical decoding message with the prefix
 * "pg_events" whose content is the channel name, a newline, and the
 * payload as JSON text.  The output plugin turns it into an "op":"message"
 * document delivered at commit, in order with the row changes; a rollback
 * discards it.
 *
 * src/emit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "replication/message.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/pg_lsn.h"

#include "pg_events.h"

PG_FUNCTION_INFO_V1(pg_events_emit);

/*
 * Channel names: ^[a-z_][a-z0-9_.:-]{0,62}$
 */
bool
pge_channel_is_valid(const char *channel, int len)
{
	if (len < 1 || len > PGE_CHANNEL_MAXLEN)
		return false;
	for (int i = 0; i < len; i++)
	{
		char		c = channel[i];

		if ((c >= 'a' && c <= 'z') || c == '_')
			continue;
		if (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-'))
			continue;
		return false;
	}
	return true;
}

/*
 * pg_events.emit(channel text, payload jsonb) returns pg_lsn
 *
 * Returns the end LSN of the message record, as pg_logical_emit_message()
 * does.  It is not an event id: consumers identify events by (commit lsn,
 * seq).
 */
Datum
pg_events_emit(PG_FUNCTION_ARGS)
{
	text	   *channel;
	const char *chan;
	int			chanlen;
	StringInfoData buf;
	XLogRecPtr	lsn;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("channel must not be null"),
				 errhint("Channel names match ^[a-z_][a-z0-9_.:-]{0,62}$.")));

	channel = PG_GETARG_TEXT_PP(0);
	chan = VARDATA_ANY(channel);
	chanlen = VARSIZE_ANY_EXHDR(channel);
	if (!pge_channel_is_valid(chan, chanlen))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid channel name \"%s\"", text_to_cstring(channel)),
				 (chanlen < 1 || chanlen > PGE_CHANNEL_MAXLEN) ?
				 errdetail("A channel name is 1 to %d bytes long.", PGE_CHANNEL_MAXLEN) :
				 errdetail("A channel name starts with a lower-case letter or an underscore, followed by lower-case letters, digits, \"_\", \".\", \":\" or \"-\"."),
				 errhint("Channel names match ^[a-z_][a-z0-9_.:-]{0,62}$.")));

	PreventCommandIfReadOnly("pg_events.emit()");
	PreventCommandDuringRecovery("pg_events.emit()");

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, chan, chanlen);
	appendStringInfoChar(&buf, '\n');
	if (PG_ARGISNULL(1))
		appendStringInfoString(&buf, "null");
	else
		appendStringInfoString(&buf,
							   DatumGetCString(DirectFunctionCall1(jsonb_out,
																   PG_GETARG_DATUM(1))));

#if PG_VERSION_NUM >= 170000
	lsn = LogLogicalMessage(PGE_MESSAGE_PREFIX, buf.data, buf.len, true, false);
#else
	lsn = LogLogicalMessage(PGE_MESSAGE_PREFIX, buf.data, buf.len, true);
#endif

	pfree(buf.data);
	PG_RETURN_LSN(lsn);
}
