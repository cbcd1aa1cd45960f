/* Judgments from MTurk's ListAssignmentsForHIT result (XML).  Parsed with
 * network access and entity expansion off (ingest/xml.h). */
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "ingest/xml.h"
#include "label/judgments.h"

#define MTURK_NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"

static const xmlNode *child(const xmlNode *n, const char *name) {
  for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) return c;
  return NULL;
}

static char *content(const xmlNode *n) { return n ? (char *)xmlNodeGetContent(n) : NULL; }

/* MTurk's ListAssignmentsForHIT result (XML): Assignment elements with WorkerId,
 * AssignmentStatus and Answer, whose text is a QuestionFormAnswers document
 * (answers "item_id" and "label", as FreeText or SelectionIdentifier). */
static int parse_assignments(ivs_importer *im, const char *data, size_t len) {
  xmlDocPtr doc;
  int rc = ivs_xml_parse_safe(im->path, data, len, 0, &doc);
  if (rc) return rc;
  xmlXPathContextPtr xc = xmlXPathNewContext(doc);
  xmlXPathObjectPtr set = xc ? xmlXPathEvalExpression(BAD_CAST "//*[local-name()='Assignment']", xc) : NULL;
  int n = set && set->nodesetval ? set->nodesetval->nodeNr : 0;
  /* --map item=Q,label=Q: the QuestionIdentifiers that hold them */
  const char *qitem = im->map.item ? im->map.item : "item_id", *qlabel = im->map.label ? im->map.label : "label";
  if (!n) rc = ivs_error_set(IVS_EPARSE, "%s: no Assignment elements (expected MTurk's ListAssignmentsForHIT result)", im->path);
  for (int k = 0; k < n && !rc; k++) {
    const xmlNode *as = set->nodesetval->nodeTab[k];
    char where[300];
    snprintf(where, sizeof where, "%s:%ld", im->path, xmlGetLineNo(as));
    char *worker = content(child(as, "WorkerId")), *status = content(child(as, "AssignmentStatus"));
    char *answer = content(child(as, "Answer")), *asg = content(child(as, "AssignmentId"));
    char *item = NULL, *label = NULL;
    if (status && !strcmp(status, "Rejected")) {
      im->rep->cancelled++;
    } else if (!worker || !answer) {
      ivs_import_reject(im, "%s: an Assignment without WorkerId or Answer", where);
    } else {
      xmlDocPtr inner;
      char iname[320];
      snprintf(iname, sizeof iname, "%s (Answer)", where);
      if (ivs_xml_parse_safe(iname, answer, strlen(answer), 0, &inner)) {
        ivs_import_reject(im, "%s", ivs_error_message());
      } else {
        const xmlNode *root = xmlDocGetRootElement(inner);
        const char *ns = root && root->ns ? (const char *)root->ns->href : "";
        if (!root || strcmp((const char *)root->name, "QuestionFormAnswers") || strcmp(ns, MTURK_NS)) {
          ivs_import_reject(im, "%s: the Answer is not MTurk's QuestionFormAnswers (namespace '%.120s')", where, ns);
        } else {
          for (const xmlNode *a = root->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE || strcmp((const char *)a->name, "Answer")) continue;
            char *q = content(child(a, "QuestionIdentifier"));
            const xmlNode *v = child(a, "FreeText");
            if (!v) v = child(a, "SelectionIdentifier");
            if (q && v && !strcmp(q, qitem) && !item) item = content(v);
            else if (q && v && !strcmp(q, qlabel) && !label) label = content(v);
            xmlFree(q);
          }
          if (!item || !label) ivs_import_reject(im, "%s: the Answer needs %s and %s", where, qitem, qlabel);
          else {
            /* the same space as the batch CSV: an assignment fetched both ways is one judgment */
            char idb[300];
            snprintf(idb, sizeof idb, "%s\x1f%s", asg ? asg : "", item);
            ivs_jident idn = {"mturk", idb, NULL};
            rc = ivs_import_judgment(im, item, worker, label, -1, where, asg && *asg ? &idn : NULL);
          }
        }
        xmlFreeDoc(inner);
      }
    }
    xmlFree(worker), xmlFree(asg), xmlFree(status), xmlFree(answer), xmlFree(item), xmlFree(label);
  }
  xmlXPathFreeObject(set);
  xmlXPathFreeContext(xc);
  xmlFreeDoc(doc);
  return rc;
}

int ivs_import_mturk_xml(ivs_importer *im) {
  ivs_buf data;
  int rc = ivs_file_read_all(im->path, (size_t)256 << 20, &data);
  if (rc) return rc;
  rc = parse_assignments(im, data.data, data.len);
  ivs_buf_release(&data);
  return rc;
}
