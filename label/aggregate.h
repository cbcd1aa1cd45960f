/* Aggregation (majority vote, Dawid-Skene, gold clamping, final-label
 * choice): declared in invscale/label.h. */
#ifndef IVS_LABEL_AGGREGATE_H
#define IVS_LABEL_AGGREGATE_H

#include "label/agreement.h"

#endif
