/*-------------------------------------------------------------------------
 *
 * relinfo.c
 *		Tracked-table set and per-relation cache of the pg_events plugin.
 *
 * Which tables are tracked is stored in pg_events.tracked_tables, a
 * user_catalog_table, so the plugin may read it while decoding.  The rule
 * is: a transaction's changes to a table are emitted iff the table is
 * tracked as of that transaction's commit (its own track()/untrack() calls
 * included).  That is implemented by reading tracked_tables with the
 * snapshot builder's current snapshot, which during replay of a transaction
 * contains every catalog-modifying transaction that committed up to and
 * including the one being replayed.  The set is read
 *
 *	- at the first transaction of a decoding session, and
 *	- at the start of every transaction that modified the catalog or a user
 *	  catalog table (every write to tracked_tables marks its transaction
 *	  so).
 *
 * Transactions without catalog changes cannot change the answer, so they
 * reuse the set; the per-transaction cost is one flag test.  Because the
 * answer only depends on the WAL, a slot restarted at any position gives the
 * same output as one that decoded without interruption.
 *
 * The per-relation cache (column names pre-escaped, output functions,
 * encoding categories, primary key, partition-root mapping) is keyed by
 * the OID of the relation a change belongs to, invalidated by relcache and
 * namespace invalidation callbacks, and rebuilt when the tracked set
 * changes.  It lives in a context under CacheMemoryContext so that an error
 * in the middle of decoding cannot leave the callbacks pointing at freed
 * memory; each session starts with a fresh cache.
 *
 * src/relinfo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "replication/snapbuild.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "pg_events.h"

static void pge_relcache_callback(Datum arg, Oid relid);
static void pge_namespace_callback(Datum arg, int cacheid, uint32 hashvalue);
static Oid	pge_lookup_tracked_table(Snapshot snapshot);
static bool pge_is_tracked(Oid relid);
static Oid	pge_emit_relid_for(Relation relation);
static void pge_build_relinfo(PgeRelInfo *entry, Relation relation, Oid emit_relid);
static void pge_build_pk(PgeRelInfo *entry, Relation emitrel);
static char *pge_escaped(const char *prefix, const char *s, const char *suffix, int *len);
static int	pge_oid_cmp(const void *a, const void *b);

/* Parent of everything below; survives errors, reset per session. */
static MemoryContext pge_cache_cxt = NULL;
static HTAB *pge_relhash = NULL;
static bool pge_callbacks_registered = false;

/* Tracked set: sorted OIDs, and a counter bumped whenever it changes. */
static Oid *pge_tracked = NULL;
static int	pge_ntracked = 0;
static uint64 pge_generation = 1;
static bool pge_loaded = false;
static Oid	pge_tracked_relid = InvalidOid;

/*
 * Start a decoding session with an empty cache.
 */
void
pge_cache_init(void)
{
	HASHCTL		ctl;

	pge_cache_reset();

	pge_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
										  "pg_events cache",
										  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgeRelInfo);
	ctl.hcxt = pge_cache_cxt;
	pge_relhash = hash_create("pg_events relations", 128, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	if (!pge_callbacks_registered)
	{
		/* callbacks cannot be unregistered: install them once per backend */
		CacheRegisterRelcacheCallback(pge_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, pge_namespace_callback,
									  (Datum) 0);
		pge_callbacks_registered = true;
	}
}

/*
 * Forget everything (end of a session, or start of the next one after an
 * error).
 */
void
pge_cache_reset(void)
{
	if (pge_cache_cxt != NULL)
		MemoryContextDelete(pge_cache_cxt);
	pge_cache_cxt = NULL;
	pge_relhash = NULL;
	pge_tracked = NULL;
	pge_ntracked = 0;
	pge_generation++;
	pge_loaded = false;
	pge_tracked_relid = InvalidOid;
}

/*
 * Relcache invalidation: drop entries of the relation, and entries reported
 * under it (partitions of a tracked root).
 */
static void
pge_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	PgeRelInfo *entry;

	if (pge_relhash == NULL)
		return;

	hash_seq_init(&status, pge_relhash);
	while ((entry = (PgeRelInfo *) hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->relid == relid ||
			entry->emit_relid == relid)
			entry->valid = false;
	}
}

/*
 * Schema rename: the pre-escaped headers carry schema names.
 */
static void
pge_namespace_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	pge_relcache_callback(arg, InvalidOid);
}

/*
 * Find pg_events.tracked_tables by name with the given snapshot.  Plain
 * catalog scans are used instead of the syscache so that the name lookup
 * and the read of the rows see the same catalog state.
 */
static Oid
pge_lookup_tracked_table(Snapshot snapshot)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	Oid			nspoid = InvalidOid;
	Oid			relid = InvalidOid;

	rel = table_open(NamespaceRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_namespace_nspname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(PGE_SCHEMA_NAME));
	scan = systable_beginscan(rel, NamespaceNameIndexId, true, snapshot, 1, key);
	if ((tup = systable_getnext(scan)) != NULL)
		nspoid = ((Form_pg_namespace) GETSTRUCT(tup))->oid;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(nspoid))
		return InvalidOid;

	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_class_relname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(PGE_TRACKED_TABLE_NAME));
	ScanKeyInit(&key[1], Anum_pg_class_relnamespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nspoid));
	scan = systable_beginscan(rel, ClassNameNspIndexId, true, snapshot, 2, key);
	if ((tup = systable_getnext(scan)) != NULL)
		relid = ((Form_pg_class) GETSTRUCT(tup))->oid;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	return relid;
}

/*
 * (Re)read the tracked set as of the commit of the transaction being
 * replayed.  Must be called inside a replayed transaction.
 */
void
pge_tracked_reload(LogicalDecodingContext *ctx)
{
	Snapshot	snapshot;
	Oid			relid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	attno;
	Oid		   *oids;
	int			n = 0;
	int			cap = 16;
	MemoryContext oldcxt;

#if PG_VERSION_NUM >= 160000
	snapshot = SnapBuildGetOrBuildSnapshot(ctx->snapshot_builder);
#else
	snapshot = SnapBuildGetOrBuildSnapshot(ctx->snapshot_builder,
										   InvalidTransactionId);
#endif

	relid = pge_lookup_tracked_table(snapshot);

	/*
	 * The relation must also exist in the historic snapshot the reorder
	 * buffer set up for the current change (it may not, yet, inside the
	 * transaction that creates the extension); without it nothing is
	 * tracked and the next change tries again.
	 */
	rel = OidIsValid(relid) ? RelationIdGetRelation(relid) : NULL;
	if (rel == NULL)
	{
		if (pge_ntracked != 0)
			pge_generation++;
		pge_ntracked = 0;
		pge_loaded = false;
		pge_tracked_relid = relid;
		return;
	}

	attno = InvalidAttrNumber;
	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), "relid") == 0)
			attno = att->attnum;
	}
	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.%s has no column \"relid\"",
						PGE_SCHEMA_NAME, PGE_TRACKED_TABLE_NAME),
				 errdetail("The pg_events extension is damaged; reinstall it.")));

	oldcxt = MemoryContextSwitchTo(pge_cache_cxt);
	oids = palloc(cap * sizeof(Oid));
	MemoryContextSwitchTo(oldcxt);

	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attno, RelationGetDescr(rel), &isnull);

		if (isnull)
			continue;
		if (n == cap)
		{
			cap *= 2;
			oids = repalloc(oids, cap * sizeof(Oid));
		}
		oids[n++] = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	RelationClose(rel);

	qsort(oids, n, sizeof(Oid), pge_oid_cmp);

	if (n != pge_ntracked || relid != pge_tracked_relid ||
		(n > 0 && memcmp(oids, pge_tracked, n * sizeof(Oid)) != 0))
		pge_generation++;
	if (pge_tracked != NULL)
		pfree(pge_tracked);
	pge_tracked = oids;
	pge_ntracked = n;
	pge_tracked_relid = relid;
	pge_loaded = true;
}

/*
 * Has the tracked set been read in this session?
 */
bool
pge_tracked_loaded(void)
{
	return pge_loaded;
}

/*
 * OID of pg_events.tracked_tables as of the last reload.
 */
Oid
pge_tracked_table_relid(void)
{
	return pge_tracked_relid;
}

/* qsort/bsearch comparator for OIDs. */
static int
pge_oid_cmp(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return (x > y) - (x < y);
}

/* Is relid in the tracked set? */
static bool
pge_is_tracked(Oid relid)
{
	if (pge_ntracked == 0)
		return false;
	return bsearch(&relid, pge_tracked, pge_ntracked, sizeof(Oid),
				   pge_oid_cmp) != NULL;
}

/*
 * Relation to report a change under: the topmost tracked partition
 * ancestor, else the relation itself if tracked, else InvalidOid.
 */
static Oid
pge_emit_relid_for(Relation relation)
{
	Oid			relid = RelationGetRelid(relation);
	Oid			result = pge_is_tracked(relid) ? relid : InvalidOid;

	if (relation->rd_rel->relispartition && pge_ntracked > 0)
	{
		List	   *ancestors = get_partition_ancestors(relid);
		ListCell   *lc;

		/* the list goes from the direct parent up to the root */
		foreach(lc, ancestors)
		{
			if (pge_is_tracked(lfirst_oid(lc)))
				result = lfirst_oid(lc);
		}
		list_free(ancestors);
	}
	return result;
}

/*
 * Build prefix + JSON-escaped s + suffix in the current memory context.
 */
static char *
pge_escaped(const char *prefix, const char *s, const char *suffix, int *len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, prefix);
	pge_json_string_cstr(&buf, s);
	appendStringInfoString(&buf, suffix);
	if (len)
		*len = buf.len;
	return buf.data;
}

/*
 * Build ,"pk":[...] from the primary key of the reported relation.
 */
static void
pge_build_pk(PgeRelInfo *entry, Relation emitrel)
{
	StringInfoData buf;
	Oid			pkoid = RelationGetPrimaryKeyIndex(emitrel);

	initStringInfo(&buf);
	appendStringInfoString(&buf, ",\"pk\":[");
	if (OidIsValid(pkoid))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
		Form_pg_index idx;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", pkoid);
		idx = (Form_pg_index) GETSTRUCT(tup);
		for (int i = 0; i < idx->indnkeyatts; i++)
		{
			AttrNumber	attnum = idx->indkey.values[i];
			Form_pg_attribute att;

			if (attnum <= 0 || attnum > RelationGetDescr(emitrel)->natts)
				continue;		/* expressions cannot be in a primary key */
			att = TupleDescAttr(RelationGetDescr(emitrel), attnum - 1);
			if (i > 0)
				appendStringInfoChar(&buf, ',');
			pge_json_string_cstr(&buf, NameStr(att->attname));
		}
		ReleaseSysCache(tup);
	}
	appendStringInfoChar(&buf, ']');
	entry->pk = buf.data;
	entry->pklen = buf.len;
}

/*
 * Fill a cache entry for a tracked relation.
 */
static void
pge_build_relinfo(PgeRelInfo *entry, Relation relation, Oid emit_relid)
{
	Relation	emitrel;
	TupleDesc	outdesc;
	MemoryContext oldcxt;

	if (emit_relid == RelationGetRelid(relation))
		emitrel = relation;
	else
	{
		emitrel = RelationIdGetRelation(emit_relid);
		if (!RelationIsValid(emitrel))
			elog(ERROR, "could not open relation with OID %u", emit_relid);
	}

	oldcxt = MemoryContextSwitchTo(entry->cxt);

	{
		StringInfoData buf;
		char	   *nspname = get_namespace_name(RelationGetNamespace(emitrel));

		if (nspname == NULL)
			elog(ERROR, "cache lookup failed for namespace %u",
				 RelationGetNamespace(emitrel));
		/* closes the "op" string the document starts with */
		initStringInfo(&buf);
		appendStringInfoString(&buf, "\",\"schema\":");
		pge_json_string_cstr(&buf, nspname);
		appendStringInfoString(&buf, ",\"table\":");
		pge_json_string_cstr(&buf, RelationGetRelationName(emitrel));
		/* consumers match by OID: names fold, get renamed and get reused */
		appendStringInfo(&buf, ",\"relid\":%u", RelationGetRelid(emitrel));
		entry->header = buf.data;
		entry->headerlen = buf.len;
	}
	pge_build_pk(entry, emitrel);

	outdesc = CreateTupleDescCopy(RelationGetDescr(emitrel));
	entry->outdesc = outdesc;
	entry->natts = outdesc->natts;
	if (emitrel != relation)
	{
		entry->indesc = CreateTupleDescCopy(RelationGetDescr(relation));
		entry->map = convert_tuples_by_name(entry->indesc, outdesc);
	}
	else
	{
		entry->indesc = NULL;
		entry->map = NULL;
	}

	entry->columns = palloc0(sizeof(PgeColumn) * Max(entry->natts, 1));
	entry->values = palloc(sizeof(Datum) * Max(entry->natts, 1));
	entry->nulls = palloc(sizeof(bool) * Max(entry->natts, 1));
	for (int i = 0; i < entry->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(outdesc, i);
		PgeColumn  *col = &entry->columns[i];

		col->dropped = att->attisdropped;
		if (col->dropped)
			continue;
		col->varlena = (att->attlen == -1);
		col->category = pge_category_for_type(att->atttypid);
		col->key = pge_escaped("", NameStr(att->attname), ":", &col->keylen);
		col->name = pge_escaped("", NameStr(att->attname), "", &col->namelen);
		if (col->category == PGE_CAT_OUTPUT ||
			col->category == PGE_CAT_NUMERIC ||
			col->category == PGE_CAT_JSONB)
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
			fmgr_info_cxt(outfunc, &col->outfunc, entry->cxt);
		}
	}

	MemoryContextSwitchTo(oldcxt);

	if (emitrel != relation)
		RelationClose(emitrel);
}

/*
 * Cache entry for the relation of a change, (re)built as needed.  The
 * result has emit_relid == InvalidOid when the relation is not tracked.
 */
PgeRelInfo *
pge_get_relinfo(Relation relation)
{
	Oid			relid = RelationGetRelid(relation);
	PgeRelInfo *entry;
	bool		found;
	Oid			emit_relid;

	entry = (PgeRelInfo *) hash_search(pge_relhash, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->valid = false;
		entry->cxt = NULL;
		entry->emit_relid = InvalidOid;
	}
	else if (entry->valid && entry->generation == pge_generation &&
			 (!OidIsValid(entry->emit_relid) ||
			  (entry->map == NULL &&
			   entry->natts == RelationGetDescr(relation)->natts) ||
			  (entry->map != NULL &&
			   entry->indesc->natts == RelationGetDescr(relation)->natts)))
		return entry;

	/* (re)build; mark valid first so an invalidation during the build sticks */
	if (entry->cxt != NULL)
		MemoryContextDelete(entry->cxt);
	entry->cxt = NULL;
	entry->valid = true;
	entry->generation = pge_generation;
	entry->map = NULL;
	entry->indesc = NULL;
	entry->natts = 0;

	emit_relid = pge_emit_relid_for(relation);
	entry->emit_relid = emit_relid;
	if (!OidIsValid(emit_relid))
		return entry;

	entry->cxt = AllocSetContextCreate(pge_cache_cxt, "pg_events relation",
									   ALLOCSET_SMALL_SIZES);
	pge_build_relinfo(entry, relation, emit_relid);
	return entry;
}
