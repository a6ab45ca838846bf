# Reference values for tests/analysis/test_r_core.py, from R survey 4.1.1.
# Run from this directory:  Rscript make_core_fixtures.R   (writes core_fixtures.csv)
# Input: ../apiclus1.csv (R survey's apiclus1). Derived columns are built here and again in the test:
#   st   = "L" for district 637 (a single-PSU stratum), "A" for even dnum, "B" otherwise
#   big  = "Y" if enroll > 500 else "N"
#   pw2  = pw * (1 + (snum %% 3) / 4)                    (unequal starting weights)
#   api_na = api00 with NA where snum %% 7 == 0          (missing outcome)
#   yes  = as.numeric(sch.wide == "Yes")
#   i1   = as.numeric(api00 > 650), NA where snum %% 5 == 0;  i2 = as.numeric(api99 > 600), NA where snum %% 4 == 1;
#   i3   = as.numeric(sch.wide == "Yes")          (satisfaction items with different non-missing denominators)
suppressMessages(library(survey))
d <- read.csv("../apiclus1.csv")
d$st <- ifelse(d$dnum == 637, "L", ifelse(d$dnum %% 2 == 0, "A", "B"))
d$big <- ifelse(d$enroll > 500, "Y", "N")
d$pw2 <- d$pw * (1 + (d$snum %% 3) / 4)
d$api_na <- ifelse(d$snum %% 7 == 0, NA, d$api00)
d$yes <- as.numeric(d$sch.wide == "Yes")
d$st2 <- ifelse(d$dnum %% 2 == 0, "A", "B")

out <- data.frame(case = character(), quantity = character(), domain = character(), value = numeric())
add <- function(case, quantity, value, domain = "") {
  out <<- rbind(out, data.frame(case = case, quantity = quantity, domain = domain, value = as.numeric(value)))
}
add_by <- function(case, res, var) {
  for (i in seq_len(nrow(res))) {
    dom <- as.character(res[i, 1])
    add(case, "estimate", coef(res)[i], dom)
    add(case, "se", SE(res)[i], dom)
  }
}
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_sch <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
tight <- list(maxit = 1000, epsilon = 1e-13)

# 1. Lonely PSU policies on a stratified cluster design (stratum L has one PSU).
for (lp in c("remove", "adjust", "average", "certainty")) {
  options(survey.lonely.psu = lp)
  des <- svydesign(id = ~dnum, strata = ~st, weights = ~pw, data = d)
  add(paste0("lonely_", lp), "mean_api00_se", SE(svymean(~api00, des)))
  add(paste0("lonely_", lp), "total_enroll_se", SE(svytotal(~enroll, des)))
  add_by(paste0("lonely_", lp, "_by_big"), svyby(~api00, ~big, des, svymean), "api00")
}
options(survey.lonely.psu = "fail")

# 2. Stratified cluster design without lonely strata, fpc as sampling fraction, domains and deff.
d$frac <- ifelse(d$st2 == "A", 0.02, 0.03)
des2 <- svydesign(id = ~dnum, strata = ~st2, weights = ~pw, fpc = ~frac, data = d)
m <- svymean(~api00, des2, deff = TRUE)
add("strat_frac", "mean_api00", coef(m)); add("strat_frac", "mean_api00_se", SE(m)); add("strat_frac", "deff", deff(m))
b <- svyby(~api00, ~stype, des2, svymean, deff = TRUE)
add_by("strat_frac_by_stype", b, "api00")
for (i in seq_len(nrow(b))) add("strat_frac_by_stype", "deff", deff(b)[i], as.character(b$stype[i]))
add_by("strat_frac_total_by_big", svyby(~enroll, ~big, des2, svytotal), "enroll")
r <- svyby(~api.stu, ~big, denominator = ~enroll, des2, svyratio)
for (i in 1:2) { add("strat_frac_ratio_by_big", "estimate", coef(r)[i], as.character(r$big[i]))
                 add("strat_frac_ratio_by_big", "se", SE(r)[i], as.character(r$big[i])) }

# 3. Missing outcome: na.rm = TRUE, overall and by domain.
desA <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = d)
m <- svymean(~api_na, desA, na.rm = TRUE)
add("missing", "mean", coef(m)); add("missing", "se", SE(m))
add_by("missing_by_stype", svyby(~api_na, ~stype, desA, svymean, na.rm = TRUE), "api_na")

# 4. Proportion intervals by domain with the domain's own df (svyby + svyciprop).
for (meth in c("logit", "beta")) {
  ci <- svyby(~I(yes == 1), ~big, desA, svyciprop, vartype = "ci", method = meth)
  for (i in 1:2) {
    add(paste0("ciprop_", meth, "_by_big"), "ci_low", ci$ci_l[i], as.character(ci$big[i]))
    add(paste0("ciprop_", meth, "_by_big"), "ci_high", ci$ci_u[i], as.character(ci$big[i]))
  }
}

# 5. Calibrated designs: domains after post-stratification and after raking unequal weights.
desP <- postStratify(desA, ~stype, pop_stype)
add_by("post_by_big", svyby(~api00, ~big, desP, svymean), "api00")
desU <- svydesign(id = ~dnum, weights = ~pw2, fpc = ~fpc, data = d)
desR <- rake(desU, list(~stype, ~sch.wide), list(pop_stype, pop_sch), control = tight)
m <- svymean(~api00, desR)
add("rake_pw2", "mean_api00", coef(m)); add("rake_pw2", "mean_api00_se", SE(m))
add_by("rake_pw2_by_big", svyby(~api00, ~big, desR, svymean), "api00")
add("rake_pw2", "total_enroll_se", SE(svytotal(~enroll, desR)))
# post-stratify then rake (two calibrations in sequence)
desPR <- rake(postStratify(desU, ~big, data.frame(big = c("N", "Y"), Freq = c(3000, 3194))),
              list(~stype, ~sch.wide), list(pop_stype, pop_sch), control = tight)
add("post_then_rake", "mean_api00_se", SE(svymean(~api00, desPR)))

# 6. Trimming after raking (R trimWeights, strict): weights and SE (calibration kept, trimmed weights fixed).
desT <- trimWeights(desR, upper = 60, strict = TRUE)
w <- weights(desT)
add("trim_after_rake", "weight_sum", sum(w)); add("trim_after_rake", "weight_max", max(w))
add("trim_after_rake", "weight_first", w[1]); add("trim_after_rake", "weight_min", min(w))
add("trim_after_rake", "mean_api00_se", SE(svymean(~api00, desT)))

# 7. Replicate designs: JKn (stratified, no lonely stratum), and JKn with raking re-run in every replicate.
repN <- as.svrepdesign(des2, type = "JKn")
add("jkn", "mean_api00_se", SE(svymean(~api00, repN)))
add_by("jkn_by_stype", svyby(~api00, ~stype, repN, svymean), "api00")
repNu <- as.svrepdesign(svydesign(id = ~dnum, strata = ~st2, weights = ~pw2, data = d), type = "JKn")
repR <- rake(repNu, list(~stype, ~sch.wide), list(pop_stype, pop_sch), control = tight)
add("jkn_rake", "mean_api00_se", SE(svymean(~api00, repR)))
repJ <- as.svrepdesign(svydesign(id = ~dnum, weights = ~pw, data = d), type = "JK1")
repJP <- postStratify(repJ, ~stype, pop_stype)
add("jk1_post", "mean_api00_se", SE(svymean(~api00, repJP)))

# 7b. JKn with a single-PSU stratum under each lonely-PSU policy (R jknweights' own rules).
for (lp in c("remove", "adjust", "average", "certainty")) {
  options(survey.lonely.psu = lp)
  repL <- as.svrepdesign(svydesign(id = ~dnum, strata = ~st, weights = ~pw, data = d), type = "JKn")
  add(paste0("jkn_lonely_", lp), "mean_api00_se", SE(svymean(~api00, repL)))
  add_by(paste0("jkn_lonely_", lp, "_by_big"), svyby(~api00, ~big, repL, svymean), "api00")
}
options(survey.lonely.psu = "fail")

# 8. Unclustered stratified design (ids = ~1) with population-size fpc.
d$Nh <- ifelse(d$stype == "E", 4421, ifelse(d$stype == "H", 755, 1018))
des8 <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~Nh, data = d)
add("unclustered", "mean_api00_se", SE(svymean(~api00, des8)))
add_by("unclustered_by_big", svyby(~api00, ~big, des8, svymean), "api00")

# 9. SIPAS-style indices: element E1 = mean of item rates i1, i2 (each over its own respondents), element E2 = i3,
#    overall = mean of the elements; delta method through svycontrast on the vector of totals (covariances included).
d$i1 <- ifelse(d$snum %% 5 == 0, NA, as.numeric(d$api00 > 650))
d$i2 <- ifelse(d$snum %% 4 == 1, NA, as.numeric(d$api99 > 600))
d$i3 <- as.numeric(d$sch.wide == "Yes")
for (k in 1:3) {
  v <- d[[paste0("i", k)]]
  d[[paste0("n", k)]] <- ifelse(is.na(v), 0, v)
  d[[paste0("o", k)]] <- as.numeric(!is.na(v))
}
index_fixtures <- function(case, des) {
  tt <- svytotal(~n1 + o1 + n2 + o2 + n3 + o3, des)
  e1 <- svycontrast(tt, quote((n1 / o1 + n2 / o2) / 2))
  ix <- svycontrast(tt, quote(((n1 / o1 + n2 / o2) / 2 + n3 / o3) / 2))
  add(case, "E1_estimate", coef(e1)); add(case, "E1_se", SE(e1))
  add(case, "index_estimate", coef(ix)); add(case, "index_se", SE(ix))
}
desA <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = d)
index_fixtures("sipas", desA)
index_fixtures("sipas_domain_E", subset(desA, stype == "E"))
desR2 <- rake(svydesign(id = ~dnum, weights = ~pw2, fpc = ~fpc, data = d), list(~stype, ~sch.wide),
              list(pop_stype, pop_sch), control = tight)
index_fixtures("sipas_raked", desR2)

write.csv(out, "core_fixtures.csv", row.names = FALSE)
