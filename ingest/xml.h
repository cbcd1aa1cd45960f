/* XML and HTML input (through libxml2): records chosen by an XPath, fields by
 * XPaths relative to each record.
 *
 * A field's value is the string value of what its XPath selects, with
 * whitespace runs collapsed to one space and trimmed (entities are decoded by
 * the parser).  For the `classes` field, an XPath selecting several nodes gives
 * one class per node, each prefixed with the space the prize expects; a single
 * node is read as a list literal.
 *
 * Parsing is locked down: no network, no DTD loading, no entity substitution,
 * and any entity declaration is refused outright (which stops billion-laughs
 * and external-entity files before they start).  Input size is capped and
 * libxml2's default depth limit stays on. */
#ifndef IVS_INGEST_XML_H
#define IVS_INGEST_XML_H

#include "ingest/record.h"

#include "invscale/ingest.h" /* ivs_xml_field, IVS_XML_MAX_FIELDS */

typedef struct ivs_xml_opts {
  int html;
  const char *record_xpath;
  const ivs_xml_field *fields;
  size_t n_fields;
  const char *classes_name; /* name of the classes field ("classes" if NULL) */
  size_t max_input;         /* bytes; 0: 256 MiB */
} ivs_xml_opts;

#define IVS_XML_OPTS_INIT {0, NULL, NULL, 0, NULL, 0}

int ivs_xml_read(const char *path, const ivs_xml_opts *opts, ivs_record_fn cb, void *ud);
int ivs_xml_read_mem(const char *name, const char *data, size_t len, const ivs_xml_opts *opts, ivs_record_fn cb,
                     void *ud);

/* The locked-down parse on its own (no network, no DTD loading, entity
 * declarations refused, UTF-8 checked): *doc is owned by the caller
 * (xmlFreeDoc).  For other modules reading XML. */
struct _xmlDoc;
int ivs_xml_parse_safe(const char *name, const char *data, size_t len, int html, struct _xmlDoc **doc);

#endif
