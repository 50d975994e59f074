// SPDX-License-Identifier: BSD-2-Clause
/* Snapshot files and deltas: see snap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/ebee.h"
#include "prog/snap.h"

const char *snap_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

int snap_write(FILE *f, const struct snap *s)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	int err = 0;

	json_object_object_add(root, "ebee_snapshot", json_object_new_int(SNAP_VERSION));
	json_object_object_add(root, "boot_id", json_object_new_string(s->boot_id));
	json_object_object_add(root, "taken_at_ns", json_object_new_uint64(s->taken_real_ns));
	for (int i = 0; i < s->set.n; i++) {
		const struct ps_prog *p = &s->set.v[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_uint64(p->id));
		json_object_object_add(o, "type", json_object_new_uint64(p->type));
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "tag", json_object_new_string(p->tag));
		json_object_object_add(o, "load_time", json_object_new_uint64(p->load_time));
		json_object_object_add(o, "run_cnt", json_object_new_uint64(p->run_cnt));
		json_object_object_add(o, "run_time_ns", json_object_new_uint64(p->run_time_ns));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "progs", arr);
	if (fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN), f) < 0 ||
	    fputc('\n', f) < 0)
		err = -EIO;
	json_object_put(root);
	return err;
}

static uint64_t get_u64(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct ps_prog *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int snap_parse(const char *text, struct snap *s)
{
	json_object *root = json_tokener_parse(text), *arr, *v;
	int n, err = 0;

	memset(s, 0, sizeof(*s));
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "ebee_snapshot", &v) ||
	    !json_object_object_get_ex(root, "progs", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		err = -EINVAL;
		goto out;
	}
	if (json_object_get_int(v) != SNAP_VERSION) {
		err = -EPROTO;
		goto out;
	}
	if (json_object_object_get_ex(root, "boot_id", &v))
		snprintf(s->boot_id, sizeof(s->boot_id), "%s", json_object_get_string(v));
	s->taken_real_ns = get_u64(root, "taken_at_ns");
	n = (int)json_object_array_length(arr);
	s->set.v = calloc(n ? n : 1, sizeof(*s->set.v));
	if (!s->set.v) {
		err = -ENOMEM;
		goto out;
	}
	s->set.cap = n ? n : 1;
	for (int i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct ps_prog *p = &s->set.v[s->set.n];

		if (!json_object_is_type(o, json_type_object) || !get_u64(o, "id"))
			continue;
		p->id = (uint32_t)get_u64(o, "id");
		p->type = (uint32_t)get_u64(o, "type");
		if (json_object_object_get_ex(o, "name", &v))
			snprintf(p->name, sizeof(p->name), "%s", json_object_get_string(v));
		if (json_object_object_get_ex(o, "tag", &v))
			snprintf(p->tag, sizeof(p->tag), "%s", json_object_get_string(v));
		p->load_time = get_u64(o, "load_time");
		p->run_cnt = get_u64(o, "run_cnt");
		p->run_time_ns = get_u64(o, "run_time_ns");
		s->set.n++;
	}
	qsort(s->set.v, s->set.n, sizeof(*s->set.v), cmp_id);
out:
	json_object_put(root);
	if (err && err != -ENOMEM)
		snap_free(s);
	return err;
}

int snap_read(const char *path, struct snap *s)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	int err;

	if (!f) {
		err = -errno;
		ebee_err("cannot open snapshot '%s': %s", path, strerror(errno));
		return err;
	}
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		ebee_err("cannot read snapshot '%s': empty file", path);
		return -EINVAL;
	}
	err = snap_parse(buf, s);
	free(buf);
	if (err == -EPROTO)
		ebee_err("snapshot '%s' has an unknown version (expected %d)", path, SNAP_VERSION);
	else if (err == -EINVAL)
		ebee_err("'%s' is not an ebee snapshot (see 'ebee prog snapshot')", path);
	else if (err)
		ebee_err("cannot read snapshot '%s': %s", path, strerror(-err));
	return err;
}

void snap_free(struct snap *s)
{
	if (s)
		ps_set_free(&s->set);
}

const char *snap_status_name(enum snap_status s)
{
	switch (s) {
	case SNAP_SAME: return "ran";
	case SNAP_NEW:  return "new";
	case SNAP_GONE: return "gone";
	}
	return "?";
}

int snap_diff(const struct ps_set *then, const struct ps_set *now, struct snap_delta **out)
{
	struct snap_delta *d = calloc((size_t)then->n + now->n + 1, sizeof(*d));
	int i = 0, j = 0, n = 0;

	if (!d)
		return -ENOMEM;
	/* Both sets are sorted by id: merge. */
	while (i < then->n || j < now->n) {
		const struct ps_prog *a = i < then->n ? &then->v[i] : NULL;
		const struct ps_prog *b = j < now->n ? &now->v[j] : NULL;
		struct snap_delta *x = &d[n++];

		if (a && b && a->id == b->id && a->load_time == b->load_time && !strcmp(a->tag, b->tag) &&
		    b->run_cnt >= a->run_cnt && b->run_time_ns >= a->run_time_ns) {
			x->then = a;
			x->now = b;
			x->status = SNAP_SAME;
			x->d_runs = b->run_cnt - a->run_cnt;
			x->d_ns = b->run_time_ns - a->run_time_ns;
			i++, j++;
		} else if (a && (!b || a->id <= b->id)) {
			/* gone; when the id was reused, b is handled as new on the next round */
			x->then = a;
			x->status = SNAP_GONE;
			i++;
		} else {
			x->now = b;
			x->status = SNAP_NEW;
			x->d_runs = b->run_cnt;
			x->d_ns = b->run_time_ns;
			j++;
		}
	}
	*out = d;
	return n;
}
