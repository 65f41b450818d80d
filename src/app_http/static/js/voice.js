// Voice in the browser only (nothing audio reaches the server): speech recognition fills the
// message box (en-US, interim results shown); speech synthesis reads a reply in an English voice.
import { getPref, setPref } from "./prefs.js";

export function recognitionAvailable() {
  return Boolean(window.SpeechRecognition || window.webkitSpeechRecognition);
}

/**
 * Starts listening; onText(text, final) is called with the running transcript.
 * Returns a stop function.
 */
export function listen({ onText, onEnd, onError }) {
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  const recognition = new Recognition();
  recognition.lang = "en-US";
  recognition.interimResults = true;
  recognition.continuous = false;
  recognition.maxAlternatives = 1;
  recognition.onresult = (event) => {
    let text = "";
    let final = true;
    for (let i = 0; i < event.results.length; i += 1) {
      text += event.results[i][0].transcript;
      if (!event.results[i].isFinal) final = false;
    }
    onText(text, final);
  };
  recognition.onerror = (event) => onError && onError(event.error);
  recognition.onend = () => onEnd && onEnd();
  recognition.start();
  return () => recognition.stop();
}

export function synthesisAvailable() {
  return "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
}

/** The voices, once the browser has loaded them (they arrive with "voiceschanged"). */
function voices() {
  const now = window.speechSynthesis.getVoices();
  if (now.length) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = () => resolve(window.speechSynthesis.getVoices());
    window.speechSynthesis.addEventListener("voiceschanged", done, { once: true });
    setTimeout(done, 1500); // some browsers never fire it: go on with the default voice
  });
}

export function englishVoice(list) {
  return (
    list.find((v) => v.lang === "en-US" && v.localService) ||
    list.find((v) => v.lang === "en-US") ||
    list.find((v) => v.lang && v.lang.toLowerCase().startsWith("en")) ||
    null
  );
}

export function slowSpeech() {
  return getPref("slowSpeech") === "1";
}

export function setSlowSpeech(on) {
  setPref("slowSpeech", on ? "1" : "0");
}

let speaking = null;

export function stopSpeaking() {
  if (synthesisAvailable()) window.speechSynthesis.cancel();
  if (speaking) speaking.onEnd();
  speaking = null;
}

/** Reads `text` aloud; onEnd runs when it finishes or is stopped. */
export async function speak(text, onEnd) {
  stopSpeaking();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = "en-US";
  const voice = englishVoice(await voices());
  if (voice) utterance.voice = voice;
  utterance.rate = slowSpeech() ? 0.7 : 1;
  const current = { onEnd };
  speaking = current;
  const finish = () => {
    if (speaking === current) {
      speaking = null;
      onEnd();
    }
  };
  utterance.onend = finish;
  utterance.onerror = finish;
  window.speechSynthesis.speak(utterance);
}
