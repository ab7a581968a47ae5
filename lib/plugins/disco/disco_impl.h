/* Shared between the files of the disco plugin; nothing here is public. */
#ifndef CANTO_PLUGIN_DISCO_IMPL_H
#define CANTO_PLUGIN_DISCO_IMPL_H

#include <canto/disco.h>

typedef struct disco_identity {
    char *category;
    char *type;
    char *name; /* NULL: none */
    char *lang; /* NULL: none */
} disco_identity;

struct canto_disco_info {
    unsigned refs;
    char *node;
    disco_identity *ids;
    size_t nids, capids;
    char **features;
    size_t nfeatures, capfeatures;
    canto_form **forms;
    size_t nforms, capforms;
};

/* An empty info with one reference. */
int canto__disco_info_new(canto_disco_info **out);
/* Append; strings are copied (name, lang may be NULL). */
int canto__disco_info_add_identity(canto_disco_info *info, const char *category, const char *type,
                                   const char *name, const char *lang);
int canto__disco_info_add_feature(canto_disco_info *info, const char *var);
/* Adds a copy of @p form. */
int canto__disco_info_add_form(canto_disco_info *info, const canto_form *form);

#endif
