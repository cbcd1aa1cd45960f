#include "eval/plot.h"

#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"

#define W 720.0
#define H 480.0
#define L 80.0 /* margins */
#define R 30.0
#define T 50.0
#define B 70.0

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

static void attr(xmlTextWriterPtr w, const char *k, const char *fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v);
  xmlTextWriterWriteAttribute(w, BAD_CAST k, BAD_CAST buf);
}

static void line(xmlTextWriterPtr w, double x1, double y1, double x2, double y2, const char *style) {
  xmlTextWriterStartElement(w, BAD_CAST "line");
  attr(w, "x1", "%.2f", x1), attr(w, "y1", "%.2f", y1), attr(w, "x2", "%.2f", x2), attr(w, "y2", "%.2f", y2);
  xmlTextWriterWriteAttribute(w, BAD_CAST "style", BAD_CAST style);
  xmlTextWriterEndElement(w);
}

static void text(xmlTextWriterPtr w, double x, double y, const char *anchor, const char *cls, const char *s) {
  xmlTextWriterStartElement(w, BAD_CAST "text");
  attr(w, "x", "%.2f", x), attr(w, "y", "%.2f", y);
  xmlTextWriterWriteAttribute(w, BAD_CAST "text-anchor", BAD_CAST anchor);
  xmlTextWriterWriteAttribute(w, BAD_CAST "class", BAD_CAST cls);
  xmlTextWriterWriteString(w, BAD_CAST s);
  xmlTextWriterEndElement(w);
}

/* The series a model belongs to: its name up to the last '-'. */
static size_t family_len(const char *name) {
  const char *d = strrchr(name, '-');
  return d ? (size_t)(d - name) : strlen(name);
}

static _Thread_local int xml_failed;
static void quiet_generic(void *ctx, const char *msg, ...) {
  (void)ctx, (void)msg;
  xml_failed = 1;
}
static void quiet_structured(void *ctx, xmlErrorPtr e) {
  (void)ctx, (void)e;
  xml_failed = 1;
}

int ivs_plot_svg(const char *path, const char *title, const char *ylabel, const ivs_plot_model *m, size_t n,
                 double baseline, int log_y) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    x0 = fmin(x0, log10(m[i].params)), x1 = fmax(x1, log10(m[i].params));
    if (!isfinite(m[i].mean)) continue; /* not drawn: named below the axis with its mean */
    double sem = isfinite(m[i].sem) ? m[i].sem : 0, lo = m[i].mean - sem, hi = m[i].mean + sem;
    if (log_y && lo <= 0) log_y = 0;
    y0 = fmin(y0, lo), y1 = fmax(y1, hi);
  }
  if (isfinite(baseline)) y0 = fmin(y0, baseline), y1 = fmax(y1, baseline);
  if (!(y0 <= y1)) y0 = 0, y1 = 1, log_y = 0; /* nothing finite to draw */
  if (log_y && y0 <= 0) log_y = 0;
  double ty0 = log_y ? log10(y0) : y0, ty1 = log_y ? log10(y1) : y1;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  if (ty1 - ty0 < 1e-9) ty0 -= 0.5, ty1 += 0.5;
  double padx = (x1 - x0) * 0.08, pady = (ty1 - ty0) * 0.1;
  x0 -= padx, x1 += padx, ty0 -= pady, ty1 += pady;
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (W - L - R))
#define PY(v) (H - B - (((log_y ? log10(v) : (v))) - ty0) / (ty1 - ty0) * (H - T - B))

  ivs_atomic_file af;
  int rc = ivs_atomic_open(&af, path);
  if (rc) return rc;
  /* libxml2 reports its failures (out of memory, say) on stderr unless told
   * otherwise: here they only mark the plot as failed */
  xmlGenericErrorFunc old_generic = xmlGenericError;
  void *old_generic_ctx = xmlGenericErrorContext;
  xmlStructuredErrorFunc old_structured = xmlStructuredError;
  void *old_structured_ctx = xmlStructuredErrorContext;
  xml_failed = 0;
  xmlSetGenericErrorFunc(NULL, quiet_generic);
  xmlSetStructuredErrorFunc(NULL, quiet_structured);
  xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(af.f, NULL); /* af.f stays ours to close */
  xmlTextWriterPtr w = ob ? xmlNewTextWriter(ob) : NULL;
  if (!w) {
    if (ob) xmlOutputBufferClose(ob);
    ivs_atomic_abort(&af);
    xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
    xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
    return ivs_error_set(IVS_ENOMEM, "%s: out of memory", path);
  }
  xmlTextWriterSetIndent(w, 1);
  xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
  xmlTextWriterStartElement(w, BAD_CAST "svg");
  xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST "http://www.w3.org/2000/svg");
  attr(w, "width", "%.0f", W), attr(w, "height", "%.0f", H);
  xmlTextWriterStartElement(w, BAD_CAST "style");
  xmlTextWriterWriteString(w, BAD_CAST "text{font-family:sans-serif;font-size:12px}.title{font-size:15px;font-weight:bold}");
  xmlTextWriterEndElement(w);
  text(w, W / 2, 28, "middle", "title", title);
  line(w, L, H - B, W - R, H - B, "stroke:#000");
  line(w, L, T, L, H - B, "stroke:#000");
  text(w, (L + W - R) / 2, H - 18, "middle", "axis", "parameters (log scale)");
  xmlTextWriterStartElement(w, BAD_CAST "text");
  attr(w, "x", "%.0f", 18), attr(w, "y", "%.0f", (T + H - B) / 2);
  char rot[64];
  snprintf(rot, sizeof rot, "rotate(-90 18 %.0f)", (T + H - B) / 2);
  xmlTextWriterWriteAttribute(w, BAD_CAST "transform", BAD_CAST rot);
  xmlTextWriterWriteAttribute(w, BAD_CAST "text-anchor", BAD_CAST "middle");
  xmlTextWriterWriteString(w, BAD_CAST ylabel);
  xmlTextWriterEndElement(w);
  if (isfinite(baseline)) {
    line(w, L, PY(baseline), W - R, PY(baseline), "stroke:#777;stroke-dasharray:6,4");
    text(w, W - R - 4, PY(baseline) - 4, "end", "baseline", "baseline");
  }
  /* series lines, then points with error bars and names */
  size_t colour = 0;
  for (size_t i = 0; i < n; i++) {
    int first = 1;
    for (size_t k = 0; k < i; k++)
      if (family_len(m[k].name) == family_len(m[i].name) && !strncmp(m[k].name, m[i].name, family_len(m[i].name))) first = 0;
    if (!first) continue;
    const char *c = colours[colour++ % 6];
    char style[64];
    snprintf(style, sizeof style, "stroke:%s;stroke-width:1.5", c);
    size_t prev = (size_t)-1;
    for (size_t k = i; k < n; k++) {
      if (family_len(m[k].name) != family_len(m[i].name) || strncmp(m[k].name, m[i].name, family_len(m[i].name))) continue;
      if (prev != (size_t)-1 && isfinite(m[k].mean))
        line(w, PX(log10(m[prev].params)), PY(m[prev].mean), PX(log10(m[k].params)), PY(m[k].mean), style);
      prev = isfinite(m[k].mean) ? k : (size_t)-1;
    }
    for (size_t k = i; k < n; k++) {
      if (family_len(m[k].name) != family_len(m[i].name) || strncmp(m[k].name, m[i].name, family_len(m[i].name))) continue;
      double px = PX(log10(m[k].params));
      if (!isfinite(m[k].mean)) {
        char label[300];
        snprintf(label, sizeof label, "%s (mean %g)", m[k].name, m[k].mean);
        text(w, px, H - B + 16, "middle", "tick", label);
        continue;
      }
      double sem = isfinite(m[k].sem) ? m[k].sem : 0, lo = m[k].mean - sem, hi = m[k].mean + sem;
      if (log_y && lo <= 0) lo = m[k].mean;
      line(w, px, PY(lo), px, PY(hi), style);
      xmlTextWriterStartElement(w, BAD_CAST "circle");
      xmlTextWriterWriteAttribute(w, BAD_CAST "class", BAD_CAST "model");
      xmlTextWriterWriteAttribute(w, BAD_CAST "data-model", BAD_CAST m[k].name);
      attr(w, "data-params", "%.17g", m[k].params);
      attr(w, "data-mean", "%.17g", m[k].mean);
      attr(w, "cx", "%.2f", px), attr(w, "cy", "%.2f", PY(m[k].mean)), attr(w, "r", "%.0f", 5);
      xmlTextWriterWriteAttribute(w, BAD_CAST "fill", BAD_CAST c);
      xmlTextWriterEndElement(w);
      text(w, px, H - B + 16, "middle", "tick", m[k].name);
    }
  }
  xmlTextWriterEndElement(w);
  rc = xmlTextWriterEndDocument(w) < 0 ? ivs_error_set(IVS_EIO, "%s: write error", path) : 0;
  xmlFreeTextWriter(w); /* flushes into af.f */
  if (!rc && xml_failed) rc = ivs_error_set(IVS_ENOMEM, "%s: cannot write the plot (out of memory)", path);
  xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
  xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
  if (rc || (rc = ivs_atomic_commit(&af))) ivs_atomic_abort(&af);
  return rc;
}
