#ifndef MUSIKK_CFFMPEG_SHIM_H
#define MUSIKK_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

/* Macros Swift cannot import, re-exported as inline functions and constants. */

static inline int musikk_averror_eof(void) { return AVERROR_EOF; }
static inline int musikk_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int musikk_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int64_t musikk_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int musikk_codec_flag_qscale(void) { return AV_CODEC_FLAG_QSCALE; }
static inline int musikk_qp2lambda(void) { return FF_QP2LAMBDA; }
static inline int musikk_sws_quality_flags(void) { return SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT; }

static inline AVChannelLayout musikk_channel_layout_mono(void) {
    AVChannelLayout layout = AV_CHANNEL_LAYOUT_MONO;
    return layout;
}
static inline AVChannelLayout musikk_channel_layout_stereo(void) {
    AVChannelLayout layout = AV_CHANNEL_LAYOUT_STEREO;
    return layout;
}

#endif
