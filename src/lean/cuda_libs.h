/* cuda_libs.h: cuBLAS, cuBLASLt and cuDNN as the lean runtime calls them (library-call
 * launches, engine_format.h version 4), opened at run time only when an engine has such
 * launches (libcublas.so.13, libcublasLt.so.13, libcudnn.so.9, or $O2P_CUBLAS_LIBRARY,
 * $O2P_CUBLASLT_LIBRARY, $O2P_CUDNN_LIBRARY), so that nothing links against them and a plan
 * of builtin kernels never needs them. Declares just the types, values (from the CUDA 13 /
 * cuDNN 9 headers) and entry points onnx2plan uses. */
#ifndef O2P_CUDA_LIBS_H
#define O2P_CUDA_LIBS_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "lean/cuda_driver.h"
#include "lean/lean.h"

typedef int cublasStatus_t;
typedef struct cublasContext *cublasHandle_t;
typedef struct cublasLtContext *cublasLtHandle_t;
typedef struct cublasLtMatmulDescOpaque *cublasLtMatmulDesc_t;
typedef struct cublasLtMatrixLayoutOpaque *cublasLtMatrixLayout_t;
typedef struct cublasLtMatmulPreferenceOpaque *cublasLtMatmulPreference_t;
typedef int cudnnStatus_t;
typedef struct cudnnContext *cudnnHandle_t;
typedef struct cudnnTensorStruct *cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct *cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct *cudnnConvolutionDescriptor_t;

/* library_types.h */
#define CUDA_R_32F 0
#define CUDA_R_16F 2
#define CUDA_R_16BF 14
/* cublas_api.h */
#define CUBLAS_STATUS_SUCCESS 0
#define CUBLAS_STATUS_ALLOC_FAILED 3
#define CUBLAS_OP_N 0
#define CUBLAS_OP_T 1
#define CUBLAS_GEMM_DEFAULT (-1)
#define CUBLAS_DEFAULT_MATH 0
#define CUBLAS_COMPUTE_32F 68
#define CUBLAS_COMPUTE_32F_FAST_TF32 77
/* cublasLt.h */
#define CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT 5          /* int32_t */
#define CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET 6 /* int64_t, elements */
#define CUBLASLT_MATMUL_DESC_TRANSA 3                 /* int32_t (cublasOperation_t) */
#define CUBLASLT_MATMUL_DESC_TRANSB 4
#define CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES 1 /* uint64_t */
typedef struct cublasLtMatmulAlgo_t {
    uint64_t data[8];
} cublasLtMatmulAlgo_t;
typedef struct cublasLtMatmulHeuristicResult_t {
    cublasLtMatmulAlgo_t algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} cublasLtMatmulHeuristicResult_t;
/* cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h */
#define CUDNN_STATUS_SUCCESS 0
#define CUDNN_DATA_FLOAT 0
#define CUDNN_DATA_HALF 2
#define CUDNN_DEFAULT_MATH 0
#define CUDNN_TENSOR_OP_MATH 1
#define CUDNN_FMA_MATH 3
#define CUDNN_TENSOR_NCHW 0
#define CUDNN_CROSS_CORRELATION 1
#define CUDNN_CONVOLUTION_FWD_ALGO_COUNT 8
typedef struct cudnnConvolutionFwdAlgoPerf_t {
    int algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
} cudnnConvolutionFwdAlgoPerf_t;

typedef struct cuda_cublas {
    cublasStatus_t (*Create)(cublasHandle_t *handle);
    cublasStatus_t (*Destroy)(cublasHandle_t handle);
    cublasStatus_t (*SetStream)(cublasHandle_t handle, CUstream stream);
    cublasStatus_t (*SetMathMode)(cublasHandle_t handle, int mode);
    const char *(*GetStatusString)(cublasStatus_t status);
    cublasStatus_t (*GemmStridedBatchedEx)(cublasHandle_t handle, int transa, int transb, int m,
                                           int n, int k, const void *alpha, const void *A,
                                           int Atype, int lda, long long strideA, const void *B,
                                           int Btype, int ldb, long long strideB, const void *beta,
                                           void *C, int Ctype, int ldc, long long strideC,
                                           int batchCount, int computeType, int algo);
} cuda_cublas;

typedef struct cuda_cublaslt {
    cublasStatus_t (*Create)(cublasLtHandle_t *handle);
    cublasStatus_t (*Destroy)(cublasLtHandle_t handle);
    const char *(*GetStatusString)(cublasStatus_t status);
    cublasStatus_t (*MatmulDescCreate)(cublasLtMatmulDesc_t *desc, int computeType, int scaleType);
    cublasStatus_t (*MatmulDescDestroy)(cublasLtMatmulDesc_t desc);
    cublasStatus_t (*MatmulDescSetAttribute)(cublasLtMatmulDesc_t desc, int attr, const void *buf,
                                             size_t size);
    cublasStatus_t (*MatrixLayoutCreate)(cublasLtMatrixLayout_t *layout, int type, uint64_t rows,
                                         uint64_t cols, int64_t ld);
    cublasStatus_t (*MatrixLayoutDestroy)(cublasLtMatrixLayout_t layout);
    cublasStatus_t (*MatrixLayoutSetAttribute)(cublasLtMatrixLayout_t layout, int attr,
                                               const void *buf, size_t size);
    cublasStatus_t (*MatmulPreferenceCreate)(cublasLtMatmulPreference_t *pref);
    cublasStatus_t (*MatmulPreferenceDestroy)(cublasLtMatmulPreference_t pref);
    cublasStatus_t (*MatmulPreferenceSetAttribute)(cublasLtMatmulPreference_t pref, int attr,
                                                   const void *buf, size_t size);
    cublasStatus_t (*MatmulAlgoGetHeuristic)(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                             cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                             cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                             cublasLtMatmulPreference_t pref, int requested,
                                             cublasLtMatmulHeuristicResult_t *results,
                                             int *returned);
    cublasStatus_t (*Matmul)(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,
                             const void *A, cublasLtMatrixLayout_t a, const void *B,
                             cublasLtMatrixLayout_t b, const void *beta, const void *C,
                             cublasLtMatrixLayout_t c, void *D, cublasLtMatrixLayout_t d,
                             const cublasLtMatmulAlgo_t *algo, void *workspace,
                             size_t workspace_size, CUstream stream);
} cuda_cublaslt;

typedef struct cuda_cudnn {
    cudnnStatus_t (*Create)(cudnnHandle_t *handle);
    cudnnStatus_t (*Destroy)(cudnnHandle_t handle);
    cudnnStatus_t (*SetStream)(cudnnHandle_t handle, CUstream stream);
    const char *(*GetErrorString)(cudnnStatus_t status);
    cudnnStatus_t (*CreateTensorDescriptor)(cudnnTensorDescriptor_t *desc);
    cudnnStatus_t (*SetTensorNdDescriptor)(cudnnTensorDescriptor_t desc, int dtype, int nb_dims,
                                           const int dims[], const int strides[]);
    cudnnStatus_t (*DestroyTensorDescriptor)(cudnnTensorDescriptor_t desc);
    cudnnStatus_t (*CreateFilterDescriptor)(cudnnFilterDescriptor_t *desc);
    cudnnStatus_t (*SetFilterNdDescriptor)(cudnnFilterDescriptor_t desc, int dtype, int format,
                                           int nb_dims, const int dims[]);
    cudnnStatus_t (*DestroyFilterDescriptor)(cudnnFilterDescriptor_t desc);
    cudnnStatus_t (*CreateConvolutionDescriptor)(cudnnConvolutionDescriptor_t *desc);
    cudnnStatus_t (*SetConvolutionNdDescriptor)(cudnnConvolutionDescriptor_t desc, int length,
                                                const int pads[], const int strides[],
                                                const int dilations[], int mode, int compute_type);
    cudnnStatus_t (*SetConvolutionGroupCount)(cudnnConvolutionDescriptor_t desc, int groups);
    cudnnStatus_t (*SetConvolutionMathType)(cudnnConvolutionDescriptor_t desc, int math);
    cudnnStatus_t (*DestroyConvolutionDescriptor)(cudnnConvolutionDescriptor_t desc);
    cudnnStatus_t (*GetConvolutionForwardAlgorithm_v7)(
        cudnnHandle_t handle, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
        cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, int requested, int *returned,
        cudnnConvolutionFwdAlgoPerf_t *results);
    cudnnStatus_t (*ConvolutionForward)(cudnnHandle_t handle, const void *alpha,
                                        cudnnTensorDescriptor_t x_desc, const void *x,
                                        cudnnFilterDescriptor_t w_desc, const void *w,
                                        cudnnConvolutionDescriptor_t conv, int algo,
                                        void *workspace, size_t workspace_size, const void *beta,
                                        cudnnTensorDescriptor_t y_desc, void *y);
} cuda_cudnn;

/* The libraries of `needed` (LEAN_LIB_* bits), each opened once per process: NULL for the
 * ones not needed. Fails with O2P_ERR_UNSUPPORTED naming the first library that cannot be
 * loaded (or lacks an entry point), messages starting with prefix. */
o2p_status cuda_libs_open(uint32_t needed, const char *prefix, const cuda_cublas **cublas,
                          const cuda_cublaslt **cublaslt, const cuda_cudnn **cudnn);

/* A context's library state: the handles (one per library per context) and, per library
 * launch, its descriptors and the algorithm chosen at create. */
typedef struct cuda_libs_context cuda_libs_context;

/* For every library launch of e: the handles, descriptors and algorithms, chosen under each
 * launch's workspace_bytes. Fails naming the layer and the call. */
o2p_status cuda_libs_context_create(const lean_engine *e, const cuda_cublas *cublas,
                                    const cuda_cublaslt *cublaslt, const cuda_cudnn *cudnn,
                                    cuda_libs_context **out);
void cuda_libs_context_destroy(cuda_libs_context *c);
/* Calls the library for launch k of layer li (its parameter bytes, addresses patched, in
 * buf) on stream; fails naming the layer, launch and call. */
o2p_status cuda_libs_enqueue(cuda_libs_context *c, int li, int k, const uint8_t *buf,
                             CUstream stream);

#endif
