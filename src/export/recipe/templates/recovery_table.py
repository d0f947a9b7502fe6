"""Turns lm-evaluation-harness outputs into Prunelab's recovery table.

For every model of recipe.json's evaluate.models, reads each task's newest results_*.json under
RESULTS/<model dir>/<task>/ and takes the task's primary metric (evaluate.tasks: acc_norm for
ARC-c and HellaSwag, acc for MMLU, TruthfulQA mc2 and Winogrande, exact match for GSM8K, as the
OpenLLM Leaderboard v1 scored them). As Prunelab's suite runner and src/eval/quality-recovery.ts:
a model's average is the mean of its tasks' primary metrics, and its quality recovery is
average / original average x 100. Writes results.json (the `evaluation` and `table` fields of
Prunelab's results.json) and results.md.
"""

import argparse
import glob
import json
import os


def task_result(results_dir, task):
    """{"name", "kind", "metric", "score", "stderr", "acc", ["accNorm"], "n"} from the newest lm-eval file."""
    name = task["task"]
    files = sorted(glob.glob(os.path.join(results_dir, name, "**", "results_*.json"), recursive=True))
    if not files:
        raise FileNotFoundError("no lm-eval results_*.json for task %s under %s" % (name, results_dir))
    with open(files[-1], encoding="utf-8") as f:
        output = json.load(f)
    metrics = output["results"].get(name)
    if metrics is None:
        raise KeyError("%s has no results for task %s" % (files[-1], name))
    metric, filter_name = task["key"].split(",", 1)
    if task["key"] not in metrics:
        raise KeyError("%s: task %s has no metric %s (has %s)" % (files[-1], name, task["key"], ", ".join(sorted(metrics))))
    result = {
        "name": name,
        "kind": task["kind"],
        "metric": task["metric"],
        "score": metrics[task["key"]],
        "stderr": metrics.get("%s_stderr,%s" % (metric, filter_name), 0.0),
        "acc": metrics.get("acc,none", metrics[task["key"]]),
    }
    if task["kind"] == "multiple-choice" and "acc_norm,none" in metrics:
        result["accNorm"] = metrics["acc_norm,none"]
    samples = output.get("n-samples", {}).get(name, {})
    result["n"] = samples.get("effective", samples.get("original", 0))
    return result


def suite_result(results_dir, evaluate):
    tasks = [task_result(results_dir, t) for t in evaluate["tasks"]]
    total = 0.0
    for t in tasks:
        total += t["score"]
    return {"suite": evaluate["suite"], "tasks": tasks, "average": total / len(tasks)}


def quality_recovery(average, original_average):
    if not original_average > 0:
        raise ValueError("the original model's average must be > 0 to divide by, got %r" % original_average)
    return (average / original_average) * 100


def recovery_markdown(evaluation, original):
    percent = lambda x: "%.1f" % (x * 100)  # noqa: E731
    header = ["model"] + ["%s (%s)" % (t["name"], t["metric"]) for t in original["tasks"]] + ["average", "recovery %"]
    lines = [header, ["---"] * len(header)]
    for row in evaluation:
        result = row["result"]
        recovery = quality_recovery(result["average"], original["average"])
        lines.append([row["label"]] + [percent(t["score"]) for t in result["tasks"]] + [percent(result["average"]), "%.1f" % recovery])
    return "".join("| %s |\n" % " | ".join(cells) for cells in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="recipe.json")
    parser.add_argument("--results", default="eval/results")
    parser.add_argument("--out", default="results.json")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        recipe = json.load(f)
    evaluate = recipe["evaluate"]
    evaluation = []
    for model in evaluate["models"]:
        directory = os.path.join(args.results, model["dir"])
        if os.path.isdir(directory):
            evaluation.append({"label": model["label"], "result": suite_result(directory, evaluate)})
        else:
            print("skipped %s: %s does not exist yet" % (model["label"], directory))
    original = next((row["result"] for row in evaluation if row["label"] == "original"), None)
    if original is None:
        raise SystemExit("evaluate the original model first (%s/original)" % args.results)
    table = [
        {
            "model": row["label"],
            "average": row["result"]["average"],
            "recovery": quality_recovery(row["result"]["average"], original["average"]) if original["average"] > 0 else None,
        }
        for row in evaluation
    ]
    results = {
        "format": "prunelab.recipe-results",
        "version": 1,
        "model": recipe["model"]["base"],
        "block": recipe["prune"]["block"],
        "evaluation": evaluation,
        "table": table,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(json.dumps(results, indent=2) + "\n")
    with open(os.path.splitext(args.out)[0] + ".md", "w", encoding="utf-8") as f:
        f.write(recovery_markdown(evaluation, original))
    for row in table:
        print("%-40s average %5.1f %%  recovery %s" % (row["model"], 100 * row["average"], "%.1f %%" % row["recovery"] if row["recovery"] is not None else "-"))


if __name__ == "__main__":
    main()
