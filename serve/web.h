/* The page's files, compiled in from serve/web/ (serve/CMakeLists.txt). */
#ifndef IVS_SERVE_WEB_H
#define IVS_SERVE_WEB_H

#include <stddef.h>

typedef struct ivs_web_file {
  const char *name; /* "annotate.js" */
  const char *type; /* its Content-Type */
  const unsigned char *data;
  size_t len;
} ivs_web_file;

/* Ends with a row of NULLs. */
extern const ivs_web_file ivs_web_files[];

#endif
