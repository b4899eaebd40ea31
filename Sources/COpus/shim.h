// The one C header pbxd takes from libopus (DESIGN.md §1): the encoder and decoder API, for
// MixMonitor's Ogg/Opus recordings (RTPMedia's OggOpusWriter).
#ifndef PBXD_COPUS_SHIM_H
#define PBXD_COPUS_SHIM_H
#include <opus/opus.h>
// The CTL requests are variadic macros Swift cannot call; these are the ones pbxd uses.
static inline int pbxd_opus_set_bitrate(OpusEncoder *encoder, opus_int32 bitrate) {
    return opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate));
}
static inline int pbxd_opus_get_lookahead(OpusEncoder *encoder, opus_int32 *samples) {
    return opus_encoder_ctl(encoder, OPUS_GET_LOOKAHEAD(samples));
}
#endif
