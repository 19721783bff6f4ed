// Screening form: each slider's current value is shown in its <output data-for="slider id">.
document.querySelectorAll("output[data-for]").forEach((out) => {
  const input = document.getElementById(out.dataset.for);
  if (!input) return;
  const show = () => { out.value = input.value; };
  input.addEventListener("input", show);
  show();
});
