/*
 * womgr.c: module entry point.  _PG_init checks libsodium and calls each
 * module's init; womgr.version() reports the library version.
 */
#include "womgr.h"
#include "audit.h"

#include <sodium.h>

#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (sodium_init() < 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("could not initialize libsodium"),
				 errdetail("sodium_init() failed while loading the womgr library."),
				 errhint("Check that libsodium is installed and that the system has an entropy source.")));

	ContextInit();
	CounterInit();
	WorkOrderInit();
	WorkflowInit();
	CalendarInit();
	DispatchInit();
	AuditInit();
	SealInit();
	CheckpointInit();

	MarkGUCPrefixReserved("womgr");
}

/* womgr.version(): the version of the loaded C library */
PG_FUNCTION_INFO_V1(womgr_version);
Datum
womgr_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(WOMGR_VERSION));
}
