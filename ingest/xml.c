#include "ingest/xml.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/utf8.h"

typedef struct {
  char msg[512];
  int line;
  int refused;
} parse_errors;

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content) {
  (void)type, (void)public_id, (void)system_id, (void)content;
  xmlParserCtxtPtr p = ctx;
  parse_errors *pe = p->_private;
  if (!pe->refused)
    snprintf(pe->msg, sizeof pe->msg, "entity declaration '%s' refused (DTD entities are not allowed)",
             (const char *)name);
  pe->line = xmlSAX2GetLineNumber(ctx);
  pe->refused = 1;
  xmlStopParser(p);
}

static void on_error(parse_errors *pe, xmlErrorPtr e) {
  if (pe->refused || pe->msg[0] || !e || e->level < XML_ERR_ERROR) return;
  size_t n = strlen(e->message ? e->message : "");
  snprintf(pe->msg, sizeof pe->msg, "%.*s", (int)(n && e->message[n - 1] == '\n' ? n - 1 : n),
           e->message ? e->message : "parse error");
  pe->line = e->line;
}

/* libxml2 calls this with the parser context as user data; the first error wins. */
static void on_serror(void *ctx, xmlErrorPtr e) { on_error(((xmlParserCtxtPtr)ctx)->_private, e); }

/* Collapses whitespace and trims; appends to out. */
static int normalise(const char *s, ivs_buf *out) {
  int space = 0, any = 0;
  for (; *s; s++) {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f') {
      space = 1;
      continue;
    }
    if (space && any && ivs_buf_putc(out, ' ')) return IVS_ELIMIT;
    space = 0;
    any = 1;
    if (ivs_buf_putc(out, *s)) return IVS_ELIMIT;
  }
  return 0;
}

static int node_text(xmlNodePtr n, ivs_buf *out) {
  xmlChar *t = xmlNodeGetContent(n);
  int rc = normalise(t ? (const char *)t : "", out);
  xmlFree(t);
  return rc;
}

static void quiet(void *ud, xmlErrorPtr e) { (void)ud, (void)e; } /* XPath errors: we report our own */

static int extract(const char *path, xmlDocPtr doc, const ivs_xml_opts *o, ivs_record_fn cb, void *ud) {
  xmlXPathContextPtr xc = xmlXPathNewContext(doc);
  if (!xc) return ivs_error_set(IVS_ENOMEM, "out of memory");
  xc->error = quiet;
  int rc = 0;
  xmlXPathObjectPtr recs = xmlXPathEvalExpression((const xmlChar *)o->record_xpath, xc);
  if (!recs || recs->type != XPATH_NODESET) {
    rc = ivs_error_set(IVS_EUSAGE, "--record '%s': not a valid XPath selecting nodes", o->record_xpath);
    goto done;
  }
  const char *classes_name = o->classes_name ? o->classes_name : "classes";
  ivs_buf vals[IVS_XML_MAX_FIELDS];
  cJSON *arrays[IVS_XML_MAX_FIELDS] = {0};
  ivs_field fields[IVS_XML_MAX_FIELDS];
  for (size_t f = 0; f < o->n_fields; f++) ivs_buf_init(&vals[f], (size_t)16 << 20);
  int nodes = recs->nodesetval ? recs->nodesetval->nodeNr : 0;
  for (int i = 0; i < nodes && !rc; i++) {
    xmlNodePtr rec_node = recs->nodesetval->nodeTab[i];
    size_t nf = 0;
    for (size_t f = 0; f < o->n_fields && !rc; f++) {
      ivs_buf_clear(&vals[f]);
      cJSON_Delete(arrays[f]);
      arrays[f] = NULL;
      xmlXPathObjectPtr v = xmlXPathNodeEval(rec_node, (const xmlChar *)o->fields[f].xpath, xc);
      if (!v) {
        rc = ivs_error_set(IVS_EUSAGE, "--field %s=%s: not a valid XPath", o->fields[f].name, o->fields[f].xpath);
        break;
      }
      int is_classes = !strcmp(o->fields[f].name, classes_name);
      if (v->type == XPATH_NODESET) {
        int k = v->nodesetval ? v->nodesetval->nodeNr : 0;
        if (k == 0) {
          xmlXPathFreeObject(v);
          continue; /* missing field */
        }
        if (is_classes && k > 1) {
          arrays[f] = cJSON_CreateArray();
          for (int j = 0; j < k && !rc; j++) {
            ivs_buf_clear(&vals[f]);
            ivs_buf_putc(&vals[f], ' ');
            rc = node_text(v->nodesetval->nodeTab[j], &vals[f]);
            cJSON_AddItemToArray(arrays[f], cJSON_CreateString(vals[f].data));
          }
        } else {
          for (int j = 0; j < k && !rc; j++) {
            if (j) rc = ivs_buf_putc(&vals[f], ' ');
            if (!rc) rc = node_text(v->nodesetval->nodeTab[j], &vals[f]);
          }
        }
      } else {
        xmlChar *s = xmlXPathCastToString(v);
        rc = normalise(s ? (const char *)s : "", &vals[f]);
        xmlFree(s);
      }
      xmlXPathFreeObject(v);
      if (rc) {
        rc = ivs_error_set(IVS_ELIMIT, "%s:%ld: field '%s' is too long", path, xmlGetLineNo(rec_node), o->fields[f].name);
        break;
      }
      if (!vals[f].data) ivs_buf_reserve(&vals[f], 0);
      fields[nf++] = arrays[f] ? (ivs_field){o->fields[f].name, NULL, 0, arrays[f], 0}
                               : (ivs_field){o->fields[f].name, vals[f].data, vals[f].len, NULL, 0};
    }
    if (rc) break;
    long line = xmlGetLineNo(rec_node);
    ivs_record r = {fields, nf, line > 0 ? (size_t)line : 0, NULL, 0};
    rc = cb(&r, ud);
  }
  for (size_t f = 0; f < o->n_fields; f++) {
    ivs_buf_release(&vals[f]);
    cJSON_Delete(arrays[f]);
  }
done:
  xmlXPathFreeObject(recs);
  xmlXPathFreeContext(xc);
  return rc;
}

int ivs_xml_parse_safe(const char *name, const char *data, size_t len, int html, struct _xmlDoc **out) {
  *out = NULL;
  if (len > (size_t)INT32_MAX) return ivs_error_set(IVS_ELIMIT, "%s: file too large", name);
  size_t ok = ivs_utf8_valid_prefix((const unsigned char *)data, len, 0);
  if (ok != len) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < ok; i++)
      if (data[i] == '\n') line++, col = 1;
      else if (((unsigned char)data[i] & 0xC0) != 0x80) col++;
    return ivs_error_set(IVS_EPARSE, "%s:%zu:%zu: invalid UTF-8 (byte offset %zu)", name, line, col, ok);
  }
  parse_errors pe = {{0}, 0, 0};
  xmlDocPtr doc = NULL;
  if (html) {
    htmlParserCtxtPtr ctx = htmlNewParserCtxt();
    if (!ctx) return ivs_error_set(IVS_ENOMEM, "out of memory");
    doc = htmlCtxtReadMemory(ctx, data, (int)len, name, "UTF-8",
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
    htmlFreeParserCtxt(ctx);
    if (!doc) return ivs_error_set(IVS_EPARSE, "%s: not parseable as HTML", name);
  } else {
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx) return ivs_error_set(IVS_ENOMEM, "out of memory");
    ctx->_private = &pe;
    ctx->sax->entityDecl = on_entity_decl;
    ctx->sax->serror = on_serror;
    doc = xmlCtxtReadMemory(ctx, data, (int)len, name, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || pe.refused || !ctx->wellFormed) {
      if (!pe.msg[0]) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctx);
        on_error(&pe, e);
      }
      xmlFreeDoc(doc);
      xmlFreeParserCtxt(ctx);
      return ivs_error_set(IVS_EPARSE, "%s:%d: %s", name, pe.line, pe.msg[0] ? pe.msg : "not well-formed XML");
    }
    xmlFreeParserCtxt(ctx);
  }
  *out = doc;
  return 0;
}

int ivs_xml_read_mem(const char *name, const char *data, size_t len, const ivs_xml_opts *o, ivs_record_fn cb,
                     void *ud) {
  if (o->n_fields > IVS_XML_MAX_FIELDS) return ivs_error_set(IVS_EUSAGE, "more than %d fields", IVS_XML_MAX_FIELDS);
  xmlDocPtr doc;
  int rc = ivs_xml_parse_safe(name, data, len, o->html, &doc);
  if (rc) return rc;
  rc = extract(name, doc, o, cb, ud);
  xmlFreeDoc(doc);
  return rc;
}

int ivs_xml_read(const char *path, const ivs_xml_opts *o, ivs_record_fn cb, void *ud) {
  ivs_buf data;
  int rc = ivs_file_read_all(path, o->max_input ? o->max_input : (size_t)256 << 20, &data);
  if (rc) return rc;
  rc = ivs_xml_read_mem(path, data.data, data.len, o, cb, ud);
  ivs_buf_release(&data);
  return rc;
}
