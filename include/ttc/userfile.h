/*
 * The adminUser and cacheUser files of /ttconfig ("user/password" on their first line that
 * is not blank): the limit the operator checks a ConfigMap's copy against and the agent
 * reads the file by, so that what one takes the other does.
 */
#ifndef TTC_USERFILE_H
#define TTC_USERFILE_H

/* The longest line, in bytes without its line break: a longer one is refused, never cut. */
#define USERFILE_MAX_LINE 511

#endif
