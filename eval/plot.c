#include "eval/plot.h"

#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"

#define W 760.0
#define H 520.0
#define L 78.0     /* margins; the right one and the bottom one grow (legend, label rows) */
#define R0 28.0
#define RLEG 170.0 /* the right margin with a legend */
#define T 66.0
#define ROWS 6     /* rows of model labels below the axis, at most */
#define ROW_H 14.0
#define CHAR_W 6.3 /* an 11px sans-serif character, on average: enough to keep labels apart */

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

const char *ivs_plot_colour(size_t k) { return colours[k % 6]; }

void ivs_plot_human(double v, char *out, size_t cap) {
  static const struct {
    double unit;
    const char *suffix;
  } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (size_t k = 0; k < 4; k++)
    if (v >= units[k].unit * 0.9995) {
      snprintf(out, cap, "%.3g%s", v / units[k].unit, units[k].suffix);
      return;
    }
  snprintf(out, cap, "%.3g", v);
}

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

static void circle(xmlTextWriterPtr w, double cx, double cy, double r, const char *fill) {
  xmlTextWriterStartElement(w, BAD_CAST "circle");
  attr(w, "cx", "%.2f", cx), attr(w, "cy", "%.2f", cy), attr(w, "r", "%.1f", r);
  xmlTextWriterWriteAttribute(w, BAD_CAST "fill", BAD_CAST fill);
}

/* The series a model belongs to: its name up to the last '-'. */
static size_t family_len(const char *name) {
  const char *d = strrchr(name, '-');
  return d ? (size_t)(d - name) : strlen(name);
}

static int same_family(const char *a, const char *b) {
  return family_len(a) == family_len(b) && !strncmp(a, b, family_len(a));
}

/* Width of a label in pixels, counting characters rather than bytes. */
static double text_w(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return (double)n * CHAR_W;
}

/* 1, 2 or 5 times a power of ten, at least v. */
static double nice_step(double v) {
  double p = pow(10, floor(log10(v))), f = v / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The y ticks for values in [lo, hi]: 1-2-5 steps in value space, or on a
 * log axis spanning a decade or more 1-2-5 (or 1) times powers of ten. */
static size_t y_ticks(double lo, double hi, int log_y, double *tick, size_t cap, double *step) {
  size_t n = 0;
  *step = 0;
  if (log_y && hi / lo >= 10) {
    static const double mant[3] = {1, 2, 5};
    int decades = (int)(floor(log10(hi)) - floor(log10(lo))), all = decades <= 3;
    for (double p = pow(10, floor(log10(lo))); p <= hi && n < cap; p *= 10)
      for (int k = 0; k < (all ? 3 : 1) && n < cap; k++)
        if (mant[k] * p >= lo && mant[k] * p <= hi) tick[n++] = mant[k] * p;
    return n;
  }
  *step = nice_step((hi - lo) / 5);
  for (double v = ceil(lo / *step) * *step; v <= hi + *step * 1e-9 && n < cap; v += *step)
    tick[n++] = fabs(v) < *step * 1e-9 ? 0 : v;
  return n;
}

static void tick_label(double v, double step, char *out, size_t cap) {
  if (step > 0) {
    int dec = (int)-floor(log10(step) + 1e-9);
    snprintf(out, cap, "%.*f", dec > 0 ? dec : 0, v);
  } else {
    snprintf(out, cap, "%g", v);
  }
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

int ivs_plot_svg(const char *path, const ivs_plot *p) {
  const ivs_plot_model *m = p->models;
  size_t n = p->n < 64 ? p->n : 64;
  int log_y = p->log_y;
  double baseline = p->baseline;
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
  if (!(x1 >= x0)) x0 = 8, x1 = 9;
  if (x1 - x0 < 1e-9) x0 -= 0.5, x1 += 0.5;
  if (ty1 - ty0 < 1e-9) {
    double half = log_y ? 0.05 : fmax(fabs(ty0) * 0.05, 0.5);
    ty0 -= half, ty1 += half;
  }
  double padx = (x1 - x0) * 0.08, pady = (ty1 - ty0) * 0.1;
  x0 -= padx, x1 += padx, ty0 -= pady, ty1 += pady;

  /* the series: first model of each, for colours and the legend */
  size_t series[64], n_series = 0, of[64];
  for (size_t i = 0; i < n; i++) {
    size_t s = 0;
    while (s < n_series && !same_family(m[series[s]].name, m[i].name)) s++;
    if (s == n_series) series[n_series++] = i;
    of[i] = s;
  }
  double R = n_series > 1 ? RLEG : R0;
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (W - L - R))
  /* model labels below the axis, each in the first row where it does not
   * touch its left neighbour (sizes close together: a further row) */
  char labels[64][300];
  size_t row[64], rows = 1;
  double right[ROWS];
  for (size_t r = 0; r < ROWS; r++) right[r] = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    char size[32];
    ivs_plot_human(m[i].params, size, sizeof size);
    if (isfinite(m[i].mean)) snprintf(labels[i], sizeof labels[i], "%s %s", m[i].name, size);
    else snprintf(labels[i], sizeof labels[i], "%s %s (mean %g)", m[i].name, size, m[i].mean);
    double half = text_w(labels[i]) / 2, px = PX(log10(m[i].params)), left = px - half;
    size_t r = 0, best = 0;
    while (r < ROWS && left < right[r] + 8) {
      if (right[r] < right[best]) best = r;
      r++;
    }
    if (r == ROWS) r = best; /* too many too close: the least crowded row */
    row[i] = r, right[r] = px + half;
    if (r + 1 > rows) rows = r + 1;
  }
  double B = 50 + ROW_H * (double)rows + 22; /* decade labels, model rows, the axis title */
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
  char buf[320];
  xmlTextWriterSetIndent(w, 1);
  xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
  xmlTextWriterStartElement(w, BAD_CAST "svg");
  xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST "http://www.w3.org/2000/svg");
  attr(w, "width", "%.0f", W), attr(w, "height", "%.0f", H);
  snprintf(buf, sizeof buf, "0 0 %.0f %.0f", W, H);
  xmlTextWriterWriteAttribute(w, BAD_CAST "viewBox", BAD_CAST buf);
  xmlTextWriterStartElement(w, BAD_CAST "style");
  xmlTextWriterWriteString(w, BAD_CAST "text{font-family:DejaVu Sans,Arial,sans-serif;font-size:11px;fill:#222}"
                                      ".title{font-size:15px;font-weight:bold}.subtitle{font-size:12px}"
                                      ".axis{font-size:12px}");
  xmlTextWriterEndElement(w);
  xmlTextWriterStartElement(w, BAD_CAST "rect"); /* a white page, also where the SVG is shown on dark */
  attr(w, "width", "%.0f", W), attr(w, "height", "%.0f", H);
  xmlTextWriterWriteAttribute(w, BAD_CAST "fill", BAD_CAST "#ffffff");
  xmlTextWriterEndElement(w);
  text(w, (L + W - R) / 2, 24, "middle", "title", p->title);
  if (p->subtitle && *p->subtitle) text(w, (L + W - R) / 2, 44, "middle", "subtitle", p->subtitle);

  /* x: gridlines and ticks at decades, in human units; with fewer than two
   * decades in view, at 2 and 5 times them too */
  double span = floor(x1) - ceil(x0) + 1, every = span > 12 ? 2 : 1;
  for (double d = ceil(x0); d <= x1; d += 1) {
    double px = PX(d);
    line(w, px, T, px, H - B, "stroke:#e3e3e3");
    line(w, px, H - B, px, H - B + 5, "stroke:#000");
    if (fmod(d - ceil(x0), every) == 0) {
      ivs_plot_human(pow(10, d), buf, sizeof buf);
      text(w, px, H - B + 17, "middle", "tick", buf);
    }
  }
  for (double d = floor(x0); span < 2 && d <= x1; d += 1)
    for (int k = 0; k < 2; k++) {
      double v = d + log10(k ? 5 : 2), px = PX(v);
      if (v < x0 || v > x1) continue;
      line(w, px, T, px, H - B, "stroke:#f0f0f0");
      line(w, px, H - B, px, H - B + 3, "stroke:#000");
      ivs_plot_human(pow(10, v), buf, sizeof buf);
      text(w, px, H - B + 17, "middle", "tick", buf);
    }
  /* y: gridlines and ticks with values */
  double yt[32], step;
  size_t nyt = y_ticks(log_y ? pow(10, ty0) : ty0, log_y ? pow(10, ty1) : ty1, log_y, yt, 32, &step);
  for (size_t k = 0; k < nyt; k++) {
    double py = PY(yt[k]);
    line(w, L, py, W - R, py, "stroke:#e3e3e3");
    line(w, L - 5, py, L, py, "stroke:#000");
    tick_label(yt[k], step, buf, sizeof buf);
    text(w, L - 8, py + 4, "end", "tick", buf);
  }
  line(w, L, H - B, W - R, H - B, "stroke:#000");
  line(w, L, T, L, H - B, "stroke:#000");
  text(w, (L + W - R) / 2, H - 10, "middle", "axis", "parameters (log scale)");
  xmlTextWriterStartElement(w, BAD_CAST "text");
  attr(w, "x", "%.0f", 18), attr(w, "y", "%.0f", (T + H - B) / 2);
  snprintf(buf, sizeof buf, "rotate(-90 18 %.0f)", (T + H - B) / 2);
  xmlTextWriterWriteAttribute(w, BAD_CAST "transform", BAD_CAST buf);
  xmlTextWriterWriteAttribute(w, BAD_CAST "text-anchor", BAD_CAST "middle");
  xmlTextWriterWriteAttribute(w, BAD_CAST "class", BAD_CAST "axis");
  snprintf(buf, sizeof buf, "%s%s", p->ylabel, log_y ? " (log scale)" : "");
  xmlTextWriterWriteString(w, BAD_CAST buf);
  xmlTextWriterEndElement(w);
  if (isfinite(baseline)) {
    line(w, L, PY(baseline), W - R, PY(baseline), "stroke:#777;stroke-dasharray:6,4");
    snprintf(buf, sizeof buf, "baseline (guessing) %.4g", baseline);
    text(w, W - R - 4, PY(baseline) - 5, "end", "baseline", buf);
  }
  /* series lines, then points with error bars */
  for (size_t s = 0; s < n_series; s++) {
    char style[64];
    snprintf(style, sizeof style, "stroke:%s;stroke-width:1.5", colours[s % 6]);
    size_t prev = (size_t)-1;
    for (size_t k = 0; k < n; k++) {
      if (of[k] != s) continue;
      if (prev != (size_t)-1 && isfinite(m[k].mean))
        line(w, PX(log10(m[prev].params)), PY(m[prev].mean), PX(log10(m[k].params)), PY(m[k].mean), style);
      prev = isfinite(m[k].mean) ? k : (size_t)-1;
    }
  }
  for (size_t k = 0; k < n; k++) {
    const char *c = colours[of[k] % 6];
    char style[64];
    snprintf(style, sizeof style, "stroke:%s;stroke-width:1.5", c);
    double px = PX(log10(m[k].params));
    line(w, px, H - B, px, H - B - 6, "stroke:#000;stroke-width:1.5"); /* the model's size on the axis */
    double ly = H - B + 32 + ROW_H * (double)row[k];
    if (row[k]) line(w, px, H - B + 22, px, ly - 10, "stroke:#bbb"); /* a moved label points at its size */
    text(w, px, ly, "middle", "model-label", labels[k]);
    if (!isfinite(m[k].mean)) continue;
    double sem = isfinite(m[k].sem) ? m[k].sem : 0, lo = m[k].mean - sem, hi = m[k].mean + sem;
    if (log_y && lo <= 0) lo = m[k].mean;
    line(w, px, PY(lo), px, PY(hi), style);
    line(w, px - 4, PY(lo), px + 4, PY(lo), style);
    line(w, px - 4, PY(hi), px + 4, PY(hi), style);
    circle(w, px, PY(m[k].mean), 5, c);
    xmlTextWriterWriteAttribute(w, BAD_CAST "class", BAD_CAST "model");
    xmlTextWriterWriteAttribute(w, BAD_CAST "data-model", BAD_CAST m[k].name);
    attr(w, "data-params", "%.17g", m[k].params);
    attr(w, "data-mean", "%.17g", m[k].mean);
    xmlTextWriterEndElement(w);
  }
  /* the legend: one line per series */
  if (n_series > 1) {
    double lx = W - R + 14;
    for (size_t s = 0; s < n_series; s++) {
      double ly = T + 10 + 18 * (double)s;
      char style[64], fam[300];
      snprintf(style, sizeof style, "stroke:%s;stroke-width:1.5", colours[s % 6]);
      line(w, lx, ly, lx + 22, ly, style);
      circle(w, lx + 11, ly, 4, colours[s % 6]);
      xmlTextWriterEndElement(w);
      const char *name = m[series[s]].name;
      snprintf(fam, sizeof fam, "%.*s", (int)family_len(name), name);
      text(w, lx + 30, ly + 4, "start", "legend", fam);
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
#undef PX
#undef PY
}
