# Reference values from R's survey package for tests/analysis/test_r_fixtures.py.
#
# Run by hand from the project root, never at test time:
#     Rscript tests/data/r/make_fixtures.R
# It writes, next to this script:
#     data.csv         (a) stratified two-stage sample: 6 strata, 3-8 PSUs (villages) each, ~20 respondents per
#                      PSU, PSU ids repeated across strata (nest = TRUE), fpc = number of PSUs in the stratum
#     data_lonely.csv  (c) the same sample with strata S1 and S2 cut down to one PSU each
#     results.csv      long format: fixture, quantity, variable, stat, commune, sector, key, value
#     session.txt      R and package versions
# Every number is written with sprintf("%.17g"), so it reads back as the double R computed. The data columns
# are rounded (y to 2 decimals, w to 4) before anything is computed, so R and Python start from the same doubles.
#
# Fixtures (the `fixture` column):
#   a_design     svydesign(id=~psu, strata=~stratum, fpc=~fpc, weights=~w, nest=TRUE):
#                svymean, svytotal (with deff), svyratio(~y, ~x), svyby(~sat+y, ~commune+sector, svymean / svytotal,
#                deff=TRUE), degf, sum of weights
#   a_nofpc      the same design without fpc: svymean, svyby means
#   b_rake       rake() to sex and agegrp, control = list(maxit = 100, epsilon = 1e-10): raked weights (key = row
#                number, 1-based), svymean, svyby(~sat+y, ~commune+sector, svymean)
#   b_post       postStratify(~agegrp): weights, svymean, svyby(~sat+y, ~commune+sector, svymean)
#   c_lonely     data_lonely.csv, same design; svymean(~sat+y) and svyby(~y, ~sector, svymean) under
#                options(survey.lonely.psu = key) for remove, adjust, average, certainty; key "fail": R stops with
#                an error (stat = "error", value 1)
#   d_jk1        as.svrepdesign(svydesign(id=~psu_id, weights=~w), type = "JK1") (unstratified, no fpc):
#                svymean and svyby(~sat+y, ~commune+sector, svymean); key "mse=FALSE" (variance around the mean
#                of the replicates, R's default) and "mse=TRUE" (around the full-sample estimate)
#   d_jkn        as.svrepdesign(a_design, type = "JKn") (stratified, fpc from the design) and key "nofpc"
#                variants on the a_nofpc design, likewise
#   e_sae        not produced: the sae package is not in Debian (no r-cran-sae); Fay-Herriot is checked against
#                the milk reference values of methodology.md in test_sae.py instead.

suppressPackageStartupMessages(library(survey))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
outdir <- if (length(script)) dirname(normalizePath(script)) else "tests/data/r"

set.seed(20261122)

# ------------------------------------------------------------------ (a) the sample
n_psu <- c(3, 4, 5, 6, 7, 8)                       # sampled villages per stratum
N_psu <- n_psu * c(4, 6, 3, 5, 8, 2) + c(1, 0, 2, 3, 0, 5)  # villages in the stratum (fpc)
communes <- sprintf("C%02d", 1:8)
sectors <- c("health", "education", "land", "justice")
sector_effect <- c(health = 0.3, education = 0.6, land = -0.5, justice = 0.0)
commune_effect <- setNames(rnorm(length(communes), 0, 0.5), communes)
agegrps <- c("18-29", "30-44", "45-59", "60+")

rows <- list()
for (h in seq_along(n_psu)) {
  for (j in seq_len(n_psu[h])) {
    m <- sample(15:25, 1)                       # respondents in the village
    M <- sample(100:600, 1)                     # adults in the village
    home <- sample(communes, 1)
    commune <- ifelse(runif(m) < 0.8, home, sample(communes, m, replace = TRUE))
    sector <- sample(sectors, m, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1))
    sex <- sample(c("F", "M"), m, replace = TRUE, prob = c(0.55, 0.45))
    agegrp <- sample(agegrps, m, replace = TRUE, prob = c(0.2, 0.3, 0.3, 0.2))
    village_effect <- rnorm(1, 0, 0.4)
    latent <- 0.4 + commune_effect[commune] + sector_effect[sector] + village_effect + rnorm(m)
    item <- as.integer(cut(latent, c(-Inf, -1.2, -0.4, 0.3, 1.1, Inf)))   # 1..5 satisfaction
    x <- sample(1:6, m, replace = TRUE)                                   # visits (ratio denominator)
    y <- round(x * exp(2 + 0.3 * village_effect + rnorm(m, 0, 0.5)), 2)   # total waiting time, minutes
    w <- round((N_psu[h] / n_psu[h]) * (M / m) * runif(m, 0.9, 1.25), 4)  # design weight x nonresponse adj.
    rows[[length(rows) + 1]] <- data.frame(
      stratum = sprintf("S%d", h), psu = j, psu_id = sprintf("S%d-V%d", h, j), fpc = N_psu[h],
      w = w, commune = commune, sector = sector, sex = sex, agegrp = agegrp,
      item = item, sat = as.integer(item >= 4), x = x, y = y,
      stringsAsFactors = FALSE
    )
  }
}
dat <- do.call(rbind, rows)
rownames(dat) <- NULL
dat$row <- seq_len(nrow(dat))
write.csv(dat, file.path(outdir, "data.csv"), row.names = FALSE)

# ------------------------------------------------------------------ output helpers
res <- data.frame(fixture = character(), quantity = character(), variable = character(), stat = character(),
                  commune = character(), sector = character(), key = character(), value = character(),
                  stringsAsFactors = FALSE)
add <- function(fixture, quantity, variable, stat, value, commune = "", sector = "", key = "") {
  res[nrow(res) + seq_along(value), ] <<- data.frame(
    fixture, quantity, variable, stat, commune, sector, key, sprintf("%.17g", as.numeric(value)),
    stringsAsFactors = FALSE
  )
}
add_stat <- function(fixture, quantity, est, key = "", with_deff = TRUE) {
  v <- names(coef(est))
  add(fixture, quantity, v, "estimate", coef(est), key = key)
  add(fixture, quantity, v, "se", SE(est), key = key)
  if (with_deff) add(fixture, quantity, v, "deff", deff(est), key = key)
}
add_by <- function(fixture, quantity, est, vars, by, key = "", with_deff = FALSE) {
  est <- as.data.frame(est)
  # columns: by variables, estimates, SEs, [deffs], in the order of vars (SE names differ between designs)
  nb <- length(by)
  nv <- length(vars)
  stopifnot(identical(names(est)[nb + seq_len(nv)], vars))
  col <- function(block, v) nb + block * nv + match(v, vars)
  for (v in vars) {
    for (i in seq_len(nrow(est))) {
      cm <- if ("commune" %in% by) est$commune[i] else ""
      sc <- if ("sector" %in% by) est$sector[i] else ""
      add(fixture, quantity, v, "estimate", est[i, v], cm, sc, key)
      add(fixture, quantity, v, "se", est[i, col(1, v)], cm, sc, key)
      if (with_deff) add(fixture, quantity, v, "deff", est[i, col(2, v)], cm, sc, key)
    }
  }
}

# ------------------------------------------------------------------ (a) linearisation
des <- svydesign(id = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = dat)
add("a_design", "sum_weights", "", "estimate", sum(weights(des)))
add("a_design", "degf", "", "estimate", degf(des))
add_stat("a_design", "svymean", svymean(~sat + y, des, deff = TRUE))
add_stat("a_design", "svytotal", svytotal(~sat + y, des, deff = TRUE))
r <- svyratio(~y, ~x, des)
add("a_design", "svyratio", "y/x", "estimate", coef(r))
add("a_design", "svyratio", "y/x", "se", SE(r))
add_by("a_design", "svyby_mean", svyby(~sat + y, ~commune + sector, des, svymean, deff = TRUE),
       c("sat", "y"), c("commune", "sector"), with_deff = TRUE)
add_by("a_design", "svyby_total", svyby(~sat + y, ~commune + sector, des, svytotal, deff = TRUE),
       c("sat", "y"), c("commune", "sector"), with_deff = TRUE)
add_by("a_design", "svyby_mean_sector", svyby(~sat + y, ~sector, des, svymean),
       c("sat", "y"), "sector")

des0 <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = dat)
add_stat("a_nofpc", "svymean", svymean(~sat + y, des0), with_deff = FALSE)
add_by("a_nofpc", "svyby_mean", svyby(~sat + y, ~commune + sector, des0, svymean),
       c("sat", "y"), c("commune", "sector"))

# ------------------------------------------------------------------ (b) raking and post-stratification
# Population margins: the survey's own weighted distribution, shifted, scaled to a round total.
N_tot <- 250000
pop_sex <- data.frame(sex = c("F", "M"), Freq = N_tot * c(0.51, 0.49))
pop_age <- data.frame(agegrp = agegrps, Freq = N_tot * c(0.27, 0.29, 0.26, 0.18))
rk <- rake(des, list(~sex, ~agegrp), list(pop_sex, pop_age), control = list(maxit = 100, epsilon = 1e-10))
for (m in list(list("sex", pop_sex), list("agegrp", pop_age))) {
  for (i in seq_len(nrow(m[[2]]))) {
    add("b_rake", "target", m[[1]], "estimate", m[[2]]$Freq[i], key = m[[2]][i, 1])
  }
}
add("b_rake", "weights", "", "estimate", weights(rk), key = as.character(dat$row))
add_stat("b_rake", "svymean", svymean(~sat + y, rk), with_deff = FALSE)
add_stat("b_rake", "svytotal", svytotal(~sat + y, rk), with_deff = FALSE)
add_by("b_rake", "svyby_mean", svyby(~sat + y, ~commune + sector, rk, svymean),
       c("sat", "y"), c("commune", "sector"))

ps <- postStratify(des, ~agegrp, pop_age)
for (i in seq_len(nrow(pop_age))) add("b_post", "target", "agegrp", "estimate", pop_age$Freq[i], key = pop_age$agegrp[i])
add("b_post", "weights", "", "estimate", weights(ps), key = as.character(dat$row))
add_stat("b_post", "svymean", svymean(~sat + y, ps), with_deff = FALSE)
add_stat("b_post", "svytotal", svytotal(~sat + y, ps), with_deff = FALSE)
add_by("b_post", "svyby_mean", svyby(~sat + y, ~commune + sector, ps, svymean),
       c("sat", "y"), c("commune", "sector"))

# ------------------------------------------------------------------ (c) lonely PSUs
lonely <- dat[!(dat$stratum %in% c("S1", "S2") & dat$psu > 1), ]
write.csv(lonely, file.path(outdir, "data_lonely.csv"), row.names = FALSE)
for (opt in c("remove", "adjust", "average", "certainty")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = lonely)
  add_stat("c_lonely", "svymean", svymean(~sat + y, dl), key = opt, with_deff = FALSE)
  add_by("c_lonely", "svyby_mean_sector", svyby(~y, ~sector, dl, svymean), "y", "sector", key = opt)
}
options(survey.lonely.psu = "fail")
dl <- svydesign(id = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = lonely)
failed <- inherits(try(SE(svymean(~sat + y, dl)), silent = TRUE), "try-error")
add("c_lonely", "svymean", "sat", "error", as.integer(failed), key = "fail")
options(survey.lonely.psu = "fail")

# ------------------------------------------------------------------ (d) replicate designs
clus <- svydesign(id = ~psu_id, weights = ~w, data = dat)
jk1 <- as.svrepdesign(clus, type = "JK1")
jkn <- as.svrepdesign(des, type = "JKn")
jkn0 <- as.svrepdesign(des0, type = "JKn")
for (mse in c(FALSE, TRUE)) {
  k <- paste0("mse=", mse)
  for (spec in list(list("d_jk1", jk1, ""), list("d_jkn", jkn, ""), list("d_jkn", jkn0, "nofpc;"))) {
    rd <- spec[[2]]
    rd$mse <- mse
    add_stat(spec[[1]], "svymean", svymean(~sat + y, rd), key = paste0(spec[[3]], k), with_deff = FALSE)
    add_by(spec[[1]], "svyby_mean", svyby(~sat + y, ~commune + sector, rd, svymean),
           c("sat", "y"), c("commune", "sector"), key = paste0(spec[[3]], k))
  }
}
add("d_jk1", "n_replicates", "", "estimate", ncol(jk1$repweights))
add("d_jkn", "n_replicates", "", "estimate", ncol(jkn$repweights$weights))

write.csv(res, file.path(outdir, "results.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("survey", as.character(packageVersion("survey"))),
             paste("rows", nrow(dat), "results", nrow(res))),
           file.path(outdir, "session.txt"))
