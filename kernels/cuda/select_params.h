/* select_params.h: the parameter structs of the select kernel family (kernels/cuda/select.cu),
 * filled by src/codegen/lower_select.c: Unique and NonMaxSuppression, the ops whose outputs
 * have data-dependent shapes. Such an output is allocated at its bound and written packed for
 * its actual shape; the kernel writes the actual dims into an int64 [rank] shape tensor.
 * Layout rules in o2p_params.h; each struct's size is asserted on both sides. */
#ifndef O2P_SELECT_PARAMS_H
#define O2P_SELECT_PARAMS_H

#include "o2p_params.h"

/* ---- Unique over n slices of X (X viewed as [outer, n, inner]; slice j is X[:, j, :], one
 * element each when X is flattened), compared lexicographically element by element (NaN
 * above every number and equal to NaN, as the host kernel). Three launches:
 *   rep:   rep[j] = the first i <= j whose slice equals slice j (one thread per slice);
 *   rank:  for each first occurrence j, pos[j] = its place among the uniques (sorted: the
 *          uniques below it; else the first occurrences before it) and cnt[j] = how many
 *          slices repeat it; thread 0 counts the uniques k into *k and writes the shape
 *          tensors;
 *   write: Y[o, pos[j], e] = X[o, j, e] for first occurrences, indices[pos[j]] = j,
 *          counts[pos[j]] = cnt[j], inverse[j] = pos[rep[j]].
 * The work is O(n^2 * outer * inner) compares: the lowering bounds it. */
typedef struct o2p_select_unique_params {
    o2p_u64 x_ptr;
    o2p_u64 y_ptr;
    o2p_u64 indices_ptr;       /* 0 when the output is omitted */
    o2p_u64 inverse_ptr;       /* 0 when omitted */
    o2p_u64 counts_ptr;        /* 0 when omitted */
    o2p_u64 y_shape_ptr;       /* int64 [y_rank] actual dims, 0 when Y's shape is static */
    o2p_u64 indices_shape_ptr; /* int64 [1], 0 when static or omitted */
    o2p_u64 counts_shape_ptr;  /* int64 [1], 0 when static or omitted */
    o2p_u64 rep_ptr;           /* workspace int64 [n] */
    o2p_u64 pos_ptr;           /* workspace int64 [n] */
    o2p_u64 cnt_ptr;           /* workspace int64 [n] */
    o2p_u64 k_ptr;             /* workspace int64 [1]: the unique count */
    o2p_i64 outer;
    o2p_i64 n;
    o2p_i64 inner;
    o2p_i64 y_dims[O2P_CU_MAX_RANK]; /* Y's dims; y_dims[axis] is replaced by the count */
    o2p_i32 y_rank;
    o2p_i32 axis;   /* the axis of Y the unique count is (0 when X is flattened) */
    o2p_i32 sorted; /* 1: ascending order; 0: order of first occurrence */
    o2p_i32 dtype;  /* O2P_CU_* of X and Y */
} o2p_select_unique_params;

/* ---- NonMaxSuppression: boxes [batches, boxes, 4] float, scores [batches, classes, boxes]
 * float. Two launches:
 *   class:  one block per (batch, class) group g: ranks the candidates (score above the
 *           threshold when there is one) by descending score, equal scores by index, into
 *           order[g * boxes ..], then selects greedily (a box is dropped when its IoU with a
 *           selected box of the group exceeds iou_threshold) into sel[g * boxes ..], at most
 *           the per-class limit, and writes count[g];
 *   gather: one block writes the rows (batch, class, box) of every group in order, packed,
 *           and the actual shape [rows, 3].
 * The three scalar inputs are read on the device (0 address: omitted). */
typedef struct o2p_select_nms_params {
    o2p_u64 boxes_ptr;
    o2p_u64 scores_ptr;
    o2p_u64 max_ptr;     /* int32/int64 max_output_boxes_per_class; 0: omitted (selects none) */
    o2p_u64 iou_ptr;     /* float iou_threshold; 0: omitted (0) */
    o2p_u64 score_ptr;   /* float score_threshold; 0: omitted (every box is a candidate) */
    o2p_u64 y_ptr;       /* int64 [rows, 3] */
    o2p_u64 y_shape_ptr; /* int64 [2] actual dims, 0 when the output's shape is static */
    o2p_u64 order_ptr;   /* workspace int64 [groups * boxes] */
    o2p_u64 sel_ptr;     /* workspace int64 [groups * boxes] */
    o2p_u64 count_ptr;   /* workspace int64 [groups] */
    o2p_i64 groups;      /* batches * classes (0: the gather only writes an empty shape) */
    o2p_i64 classes;
    o2p_i64 boxes;
    o2p_i64 max_cap; /* the most boxes a class may select: min(boxes, constant limit) */
    o2p_i64 rows;    /* rows allocated for Y (the bound) */
    o2p_i32 center_point_box;
    o2p_i32 max_dtype; /* O2P_CU_INT64 or O2P_CU_INT32 */
} o2p_select_nms_params;

#endif
