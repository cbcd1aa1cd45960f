/* An import session: one source file into the project store, in one
 * transaction.  The declarations are the public ones (invscale/ingest.h).
 *
 * The file is parsed (and its records converted) on a worker thread while the
 * calling thread stores the examples (ingest/pipeline.h).  Invalid records are
 * counted and the first IVS_IMPORT_REJECTS_KEPT of them kept, or, with
 * `strict`, end the import. */
#ifndef IVS_INGEST_SESSION_H
#define IVS_INGEST_SESSION_H

#include "ingest/record.h"
#include "ingest/text.h"
#include "ingest/xml.h"
#include "invscale/ingest.h"
#include "store/store.h"

#endif
