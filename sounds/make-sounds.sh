#!/bin/sh
# Generates pbxd's bundled prompt set into sounds/en/ with espeak-ng (speech) and sox (format,
# tones, silence). Names and wording follow Asterisk's core-sounds-en list, so dialplans written
# for Asterisk find the prompts they expect. Output: 8 kHz, mono, 16-bit PCM WAV.
#
# Idempotent: each prompt is rendered to a temporary file and only replaces the committed one
# when the bytes differ. sox runs with -D (no dither) so a re-run produces identical files.
#
# Usage: sounds/make-sounds.sh            (from anywhere; writes next to this script)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/en"
voice=en-us
speed=175         # words per minute (espeak-ng's default)

# --- tools -------------------------------------------------------------------------------------
missing=""
command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
command -v sox >/dev/null 2>&1 || missing="$missing sox"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -eq 0 ]; then asroot=""; else asroot="sudo"; fi
    echo "make-sounds: installing$missing" >&2
    $asroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
changed=0
total=0

# install_file NAME TMPFILE: move TMPFILE to en/NAME.wav unless identical.
install_file() {
    dest="$out/$1.wav"
    mkdir -p "$(dirname "$dest")"
    if [ -f "$dest" ] && cmp -s "$2" "$dest"; then
        rm -f "$2"
    else
        mv "$2" "$dest"
        changed=$((changed + 1))
    fi
    total=$((total + 1))
}

# speak NAME TEXT [ssml]: synthesize, then to telephone format: 8 kHz mono 16-bit; leading and
# trailing silence trimmed (60 ms kept at each end), pauses inside longer than 250 ms shortened
# to 250 ms, peak-normalised to -3 dBFS.
speak() {
    name=$1 text=$2 mode=${3:-}
    raw="$tmp/raw.wav"
    if [ "$mode" = ssml ]; then
        espeak-ng -v "$voice" -s "$speed" -m -w "$raw" "<speak>$text</speak>"
    else
        espeak-ng -v "$voice" -s "$speed" -w "$raw" "$text"
    fi
    sox -D "$raw" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" \
        silence -l 1 0.01 0.5% -1 0.25 0.5% reverse silence 1 0.01 0.5% reverse \
        gain -n -3 pad 0.06 0.06
    install_file "$name" "$tmp/out.wav"
}

# --- digits and numbers (SayDigits, SayNumber) ---------------------------------------------------
i=0
for w in zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
         fifteen sixteen seventeen eighteen nineteen twenty; do
    speak "digits/$i" "$w"
    i=$((i + 1))
done
for pair in 30:thirty 40:forty 50:fifty 60:sixty 70:seventy 80:eighty 90:ninety \
            hundred:hundred thousand:thousand million:million star:star pound:pound; do
    speak "digits/${pair%%:*}" "${pair#*:}"
done

# --- letters (SayAlpha): spoken as letter names, not as words ("a" would be "uh") ---------------
for l in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
    speak "letters/$l" "<say-as interpret-as=\"characters\">$l</say-as>" ssml
done

# --- phrases: Asterisk's core-sounds-en wording -----------------------------------------------
# demo-congrats and demo-thanks name Asterisk in the original; ours name pbxd, and drop the
# sentence about Asterisk's console channel driver, which pbxd does not have.
while IFS='|' read -r name text; do
    [ -n "$name" ] || continue
    speak "$name" "$text"
done <<'PHRASES'
agent-user|Agent login. Please enter your agent number followed by the pound key.
agent-pass|Please enter your password followed by the pound key.
agent-loginok|Agent logged in.
agent-loggedoff|Agent logged off.
agent-incorrect|Login incorrect.
agent-id|Your call will be handled by agent
agent-paused|Agent paused.
agent-unpaused|Agent available.
agent-wrapup-ended|Wrap up ended.
auth-thankyou|Thank you.
queue-youarenext|Your call is now first in line and will be answered by the next available representative.
queue-thereare|You are currently caller number
queue-callswaiting|Waiting to speak with a representative
queue-holdtime|The estimated hold time is currently
queue-minute|minute
queue-minutes|minutes
queue-seconds|seconds
queue-less-than|less than
queue-thankyou|Thank you for your patience
queue-reporthold|Hold time
queue-periodic-announce|All of our representatives are currently busy. Please stay on the line and your call will be answered by the next available representative.
pls-hold-while-try|Please hold while we try to connect you.
invalid|I am sorry, that's not a valid extension. Please try again.
pbx-invalid|I am sorry, that's not a valid extension. Please try again.
pbx-transfer|Transfer.
please-try-again|Please try again.
goodbye|Goodbye!
vm-goodbye|Goodbye
hello-world|Hello world.
ivr-menu|For sales, press 1. For support, press 2. For the operator, press 0.
ivr-after-hours|Our office is closed. Please call again during business hours.
demo-congrats|Congratulations. You have successfully installed and executed the p b x d open source PBX. You have also installed a set of sample sounds and configuration files that should help you to get started. Like a normal PBX you will navigate this demonstration by dialing digits.
demo-thanks|Goodbye. Thank you for trying out the p b x d open source PBX.
PHRASES

# --- tones and silence ---------------------------------------------------------------------------
# beep: 250 ms of 1 kHz at -6 dBFS with 10 ms ramps (the record/voicemail beep).
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" synth 0.25 sine 1000 gain -6 fade 0.01 0.25 0.01
install_file beep "$tmp/out.wav"
# silence/1: exactly one second (8000 zero samples).
sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "$tmp/out.wav" trim 0 1
install_file silence/1 "$tmp/out.wav"

bytes=$(du -sb "$out" | cut -f1)
echo "make-sounds: $total prompts in $out ($changed changed), $bytes bytes" >&2
if [ "$bytes" -ge 2000000 ]; then
    echo "make-sounds: the prompt set grew past 2 MB; shorten it" >&2
    exit 1
fi
