// Package demo loads a realistic, deterministic demonstration dataset — two
// years of a Jiaxing-like city's investment-attraction ledger — through the
// real command handlers, so that every dashboard query has something to
// answer on the first run (`zhaoshang demo`, `zhaoshang serve --demo`).
//
// # What it holds
//
//   - the units the Jiaxing 2024 plan makes responsible: 南湖区, 秀洲区,
//     嘉善县, 平湖市, 海盐县, 海宁市, 桐乡市 (county) and 嘉兴经济技术开发区,
//     浙江乍浦经济开发区 (park), plus the centre 嘉兴市投资促进中心 (jxic);
//   - the default policy adopted explicitly as version 1;
//   - each year's targets, set the December before: the Jiaxing 2024
//     figures (80 projects ≥ ¥10亿, 15 ≥ ¥50亿, 5 ≥ ¥100亿, 25 Fortune-500,
//     50 above US$1亿) scaled to the dataset (×0.4, +10% a year) and split
//     among the units by size, plus the indicators the assessment weighs,
//     set near what a unit of its size achieves;
//   - about 180 projects a year in the industry chains the policies name
//     (光伏新能源, 新能源汽车, 化工新材料, 集成电路, 氢能, 空天信息 …), with
//     made-up Chinese and foreign investors (valid unified social credit
//     codes, categories), amounts mostly ¥1亿–¥50亿, some in dollars, some
//     ≥ ¥100亿, going through every stage: negotiation rounds, due process,
//     signing filings (most a week ahead, some late, some missing),
//     signings with commitments, amendments, registrations, starts, funds in
//     instalments, production, terminations;
//   - 首报首谈: reports rejected under another unit's exclusivity and kept
//     on record (one settled by a transfer), windows expiring and lapsed;
//   - transfers (项目流转), most of which then land, crediting both units;
//   - tolerance cases decided by the discipline commission — exempt with
//     due process recorded in time, rejected with due process entered after
//     the signing or for a subjective fault, one still open;
//   - supervision orders with the six 定, closed, open and overdue;
//   - bonus points and a deduction for falsification; every year that has
//     ended assessed and published.
//
// Every alert kind the read side raises is open at Now.
//
// # How it is recorded
//
// The generator (plan.go) decides every step up front from one seeded
// source, then the executor (demo.go) sends the commands in simulated time:
// the units bring their ledgers up to date twice a week, so the steps are
// grouped in Tuesday and Friday evening batches, each run with the
// commands' clock at its moment and its commands of different projects
// concurrently, sharing the store's commits. With Options.Clock handed to
// the embedded store as well (bolt.WithClock), recorded_at follows the
// simulation: facts entered days after they happened, a few weeks late
// (late_record), filings a week ahead of their signings.
//
// # Determinism and idempotency
//
// The same seed, Now and zone give the same commands; every command carries
// an idempotency key derived from the seed and its step, so the ids it
// creates (projects, orders, cases, events) are the same too. Every event
// carries the correlation id demo:seed=S:years=Y:now=UNIX. Load refuses a
// store holding anything else (ErrNotEmpty); on a store that holds the
// demo of the same seed it sends the same commands again with the recorded
// Now, which appends nothing to a complete demo and completes an
// interrupted one.
//
// On this project's 2-core machine the two-year dataset (about 370
// projects, 3,800 commands, 7,900 events counting the idempotency records)
// loads into the embedded store in one to four seconds, depending on the
// machine's load.
package demo
