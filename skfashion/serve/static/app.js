"use strict";
// The page of `skfashion serve`: send the chosen photos to /predict and show,
// for each, the photo, the 28x28 picture the model received and its top classes,
// with a warning when the model's novelty detector says it is not a garment;
// "About this model": its model card (GET card), where it has one.
const input = document.getElementById("files");
const drop = document.getElementById("drop");
const statusLine = document.getElementById("status");
const results = document.getElementById("results");
const tokenForm = document.getElementById("token-form");
let pending = null;

function headers() {
  const token = sessionStorage.getItem("skfashion-token");
  return token ? { Authorization: "Bearer " + token } : {};
}

function shown(file, prediction) {
  const item = document.getElementById("result").content.cloneNode(true);
  item.querySelector(".photo").src = URL.createObjectURL(file);
  item.querySelector(".view").src = prediction.view;
  item.querySelector(".label").textContent = prediction.label;
  item.querySelector(".file").textContent = file.name;
  if (prediction.garment === false) {  // the model's novelty detector says so
    const warning = item.querySelector(".warning");
    warning.textContent = "Not a garment? This picture is unlike the garments the model " +
      "knows (score " + prediction.garment_score.toFixed(2) + ", below its threshold " +
      prediction.garment_threshold.toFixed(2) + "): the classes below are a guess.";
    warning.hidden = false;
    item.querySelector(".result").classList.add("stranger");
  }
  const list = item.querySelector(".top");
  for (const guess of prediction.top) {
    const row = document.createElement("li");
    const percent = (100 * guess.probability).toFixed(1);
    row.innerHTML = '<span class="name"></span><span class="bar"><span></span></span><span class="pct"></span>';
    row.querySelector(".name").textContent = guess.label;
    row.querySelector(".bar span").style.width = percent + "%";
    row.querySelector(".pct").textContent = percent + " %";
    list.appendChild(row);
  }
  return item;
}

async function classify(files) {
  files = Array.from(files).filter((f) => f.size > 0);
  if (!files.length) return;
  const form = new FormData();
  files.forEach((f) => form.append("files", f, f.name));
  statusLine.textContent = "Classifying " + files.length + " photo(s)...";
  const response = await fetch("predict?top=3", { method: "POST", body: form, headers: headers() });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status === 401) {
    pending = files;
    tokenForm.hidden = false;
    statusLine.textContent = answer.error;
    return;
  }
  if (!response.ok) {
    statusLine.textContent = "Error: " + answer.error;
    return;
  }
  // the newest photos on top, in the order they were chosen
  const group = document.createDocumentFragment();
  answer.predictions.forEach((p, i) => group.appendChild(shown(files[i], p)));
  results.prepend(group);
  statusLine.textContent = "";
}

async function showCard() {
  const response = await fetch("card", { headers: headers() });
  if (!response.ok) return;  // no card (404), or the token is still to come
  const card = await response.json();
  document.getElementById("card-title").textContent = card.title || "";
  const rows = document.querySelector("#card-results tbody");
  rows.replaceChildren();
  for (const result of card.results) {
    const row = rows.insertRow();
    row.insertCell().textContent = result.metric;
    row.insertCell().textContent = result.dataset + (result.split ? " (" + result.split + ")" : "");
    const value = result.metric === "roc_auc" || result.metric.includes("AUROC")
      ? result.value.toFixed(3) : (100 * result.value).toFixed(2) + " %";
    row.insertCell().textContent = value;
  }
  document.getElementById("card-text").textContent = card.markdown;
  document.getElementById("about").hidden = false;
}

input.addEventListener("change", () => classify(input.files));
["dragenter", "dragover"].forEach((e) =>
  drop.addEventListener(e, (event) => { event.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((e) =>
  drop.addEventListener(e, (event) => { event.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (event) => classify(event.dataTransfer.files));
tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("skfashion-token", document.getElementById("token").value);
  tokenForm.hidden = true;
  showCard();
  if (pending) classify(pending);
});
showCard();
