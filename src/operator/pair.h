/* The active/standby pair topology's state machine table. */
#ifndef PAIR_H
#define PAIR_H

#include "fsm.h"

extern const struct fsm_table pair_table;

#endif
