/* What the page's modules share: its elements, the conversation, whether a request is under way. */
export const state = {
  els: {},
  sender: "",
  history: [],        // [{role, text, image, buttons, chosen, failed, voice, speech}]
  rowOf: [],          // DOM row for history[i]
  busy: false,
  latestAnchor: null  // first element of the newest batch, for scrolling
};
