/* libFuzzer: XML (or HTML when the first byte is 'h') record extraction. */
#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/xml.h"

static void silent(void *ctx, const char *msg, ...) { (void)ctx, (void)msg; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    xmlSetGenericErrorFunc(NULL, silent);
    init = 1;
  }
  static const ivs_xml_field fields[] = {{"prompt", "./q | ./p | ."}, {"classes", ".//o"}, {"answer_index", "@a"}};
  int html = size > 0 && data[0] == 'h';
  ivs_xml_opts o = {html, "//item | //p", fields, 3, NULL, 1 << 20};
  ivs_ingest_ctx ctx = {0};
  ctx.path = "fuzz.xml";
  ivs_xml_read_mem("fuzz.xml", (const char *)data, size, &o, convert_record, &ctx);
  ivs_ingest_ctx_release(&ctx);
  return 0;
}
