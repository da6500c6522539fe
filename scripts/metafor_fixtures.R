# Write the metafor reference values that tests/test_effects.py and tests/test_meta.py compare against.
#
# Run from the repository root:   Rscript scripts/metafor_fixtures.R
# Needs R with metafor and jsonlite (Debian: apt-get install r-cran-metafor r-cran-jsonlite).
#
# Each tests/data/metafor_<name>.json records the data, every R call that produced a number
# (as text), R.version.string, packageVersion("metafor") and the date. Numbers are written with
# full precision (digits = NA). Iterative estimators (REML, PM) and the Q-profile search run with
# tight tolerances: metafor's defaults are only accurate to about 1e-5.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- file.path("tests", "data")
if (!dir.exists(out_dir)) stop("run from the repository root: tests/data/ not found")

ctrl_text <- "list(threshold = 1e-12, tol = 1e-12, maxiter = 1000)"
ctrl <- eval(parse(text = ctrl_text))
methods <- c("FE", "DL", "REML", "PM")
tests <- c("z", "knha", "t", "adhoc")   # "adhoc": Knapp-Hartung with the scaling factor floored at 1

num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# confint() with metafor's default search interval; when the upper bound lies beyond it
# (ub.sign ">"), widen the interval tenfold until the bound is found, and record both calls.
qprofile <- function(res, tol = 1e-12) {
  # tol is absolute in metafor: the stress fixture's rescaled copies scale it with the variances
  tol_text <- if (tol == 1e-12) "1e-12" else format(tol)
  call <- sprintf("confint(res, type = \"QP\", control = list(tol = %s, maxiter = 1000))", tol_text)
  ci <- suppressWarnings(confint(res, type = "QP", control = list(tol = tol, maxiter = 1000)))
  default_ub_sign <- ci$ub.sign
  tau2_max <- max(100, 10 * res$tau2)
  while (identical(ci$ub.sign, ">")) {
    tau2_max <- tau2_max * 10
    call <- sprintf("confint(res, type = \"QP\", control = list(tol = %s, maxiter = 1000, tau2.max = %s))",
                    tol_text, format(tau2_max, scientific = FALSE))
    ci <- suppressWarnings(confint(res, type = "QP",
                                   control = list(tol = tol, maxiter = 1000, tau2.max = tau2_max)))
  }
  r <- ci$random
  list(call = call, default_ub_sign = default_ub_sign, ci_null = ci$ci.null,
       tau2_ci_low = r["tau^2", "ci.lb"], tau2_ci_high = r["tau^2", "ci.ub"],
       i2_ci_low = r["I^2(%)", "ci.lb"], i2_ci_high = r["I^2(%)", "ci.ub"],
       h2_ci_low = r["H^2", "ci.lb"], h2_ci_high = r["H^2", "ci.ub"])
}

fit_record <- function(yi, vi, measure, method, test, slab, control = ctrl, control_text = ctrl_text, level = 95) {
  level_text <- if (level == 95) "" else sprintf(", level = %s", format(level))
  fit_call <- sprintf("rma(yi, vi, data = es, method = \"%s\", test = \"%s\"%s, control = %s)",
                      method, test, level_text, control_text)
  res <- suppressWarnings(rma(yi = yi, vi = vi, method = method, test = test, control = control, slab = slab,
                              level = level))
  pred <- predict(res)
  rec <- list(
    measure = measure, method = method, test = test, level = level,
    calls = list(fit = fit_call, predict = "predict(res)", leave1out = "leave1out(res)",
                 weights = "weights(res)"),
    k = res$k, estimate = num(res$beta), se = num(res$se), statistic = num(res$zval), pvalue = num(res$pval),
    ci_low = num(res$ci.lb), ci_high = num(res$ci.ub),
    # predict() gives no pi.lb for FE models: the interval is the CI (pred.lb == ci.lb)
    pi_low = if (is.null(pred$pi.lb)) num(pred$ci.lb) else num(pred$pi.lb),
    pi_high = if (is.null(pred$pi.ub)) num(pred$ci.ub) else num(pred$pi.ub),
    tau2 = num(res$tau2), i2 = num(res$I2), h2 = num(res$H2),
    q = num(res$QE), q_pvalue = num(res$QEp), q_df = res$k - res$p,
    weights = as.numeric(weights(res)),
    # the Knapp-Hartung scaling factor (1 for "z" and "t"; floored at 1 for "adhoc") and the t df
    s2w = num(res$s2w), ddf = num(res$ddf)
  )
  if (method != "FE") {
    rec$confint <- qprofile(res, tol = if (is.null(control$tol)) 1e-12 else control$tol)
  }
  l1o <- suppressWarnings(leave1out(res))
  rec$leave1out <- list(slab = as.character(l1o$slab), estimate = as.numeric(l1o$estimate),
                        se = as.numeric(l1o$se), ci_low = as.numeric(l1o$ci.lb),
                        ci_high = as.numeric(l1o$ci.ub), q = as.numeric(l1o$Q), q_pvalue = as.numeric(l1o$Qp),
                        tau2 = if (method == "FE") rep(0, res$k) else as.numeric(l1o$tau2),
                        i2 = as.numeric(l1o$I2), h2 = as.numeric(l1o$H2))
  rec
}

escalc_record <- function(es, call) {
  list(call = call, yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

fits_for <- function(es, measure, slab, level = 95) {
  out <- list()
  for (m in methods) for (t in tests) {
    out[[length(out) + 1]] <- fit_record(es$yi, es$vi, measure, m, t, slab, level = level)
  }
  out
}

write_fixture <- function(name, description, data, escalcs, fits, extra = list(), control_text = ctrl_text) {
  doc <- c(list(
    name = name,
    description = description,
    script = "scripts/metafor_fixtures.R",
    r_version = R.version.string,
    metafor_version = as.character(packageVersion("metafor")),
    date = format(Sys.Date()),
    control = control_text,
    data = data,
    escalc = escalcs,
    fits = fits
  ), extra)
  path <- file.path(out_dir, paste0("metafor_", name, ".json"))
  write_json(doc, path, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")
  cat("wrote", path, "\n")
}

# ---- dat.bcg: binary outcomes (RR, OR, RD), Egger test (k = 13), subgroups by alloc ----------
bcg <- dat.bcg
bcg_data <- list(key = paste0("bcg", bcg$trial), author = bcg$author, year = bcg$year,
                 tpos = bcg$tpos, tneg = bcg$tneg, cpos = bcg$cpos, cneg = bcg$cneg, alloc = bcg$alloc)
bcg_escalc <- list()
bcg_fits <- list()
bcg_regtest <- list()
bcg_subgroups <- list()
bcg_regtest_rma <- list()
bcg_ranktest <- list()
bcg_subgroups_common <- list()
for (measure in c("RR", "OR", "RD")) {
  call <- sprintf("escalc(measure = \"%s\", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)", measure)
  es <- escalc(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  bcg_escalc[[measure]] <- escalc_record(es, call)
  bcg_fits <- c(bcg_fits, fits_for(es, measure, bcg_data$key))
  if (measure == "RR") bcg_fits <- c(bcg_fits, fits_for(es, measure, bcg_data$key, level = 90))

  # Egger's test in the rma form (metafor's default model = "rma"): yi ~ sei as a meta-regression
  # with the model's own estimator and test; and Begg's rank test.
  for (m in methods) for (t in tests) {
    fit <- suppressWarnings(rma(yi, vi, data = es, method = m, test = t, control = ctrl))
    rt <- suppressWarnings(regtest(fit, model = "rma"))
    bcg_regtest_rma[[length(bcg_regtest_rma) + 1]] <- list(
      measure = measure, method = m, test = t,
      call = sprintf("regtest(rma(yi, vi, data = es, method = \"%s\", test = \"%s\", control = %s), model = \"rma\")",
                     m, t, ctrl_text),
      k = fit$k, statistic = num(rt$zval), p = num(rt$pval), df = num(rt$dfs),
      bias = num(coef(rt$fit)[2]), bias_se = num(rt$fit$se[2]), tau2 = num(rt$fit$tau2),
      limit_estimate = num(rt$est), limit_ci_low = num(rt$ci.lb), limit_ci_high = num(rt$ci.ub))
  }
  rk <- ranktest(rma(yi, vi, data = es, method = "FE"))
  bcg_ranktest[[measure]] <- list(call = "ranktest(rma(yi, vi, data = es, method = \"FE\"))",
                                  note = "cor.test(yi.star, vi, method = \"kendall\", exact = TRUE): exact p without ties",
                                  tau = num(rk$tau), p = num(rk$pval))

  # Subgroups with a common tau2: the meta-regression on the subgroup factor; the test of the
  # subgroup differences is its omnibus test of the moderators (QM), as rma(mods = ) computes it.
  for (m in methods) for (t in tests) {
    fit <- suppressWarnings(rma(yi, vi, mods = ~ factor(alloc), data = es, method = m, test = t, control = ctrl))
    cell <- suppressWarnings(rma(yi, vi, mods = ~ 0 + factor(alloc), data = es, method = m, test = t, control = ctrl))
    bcg_subgroups_common[[length(bcg_subgroups_common) + 1]] <- list(
      measure = measure, method = m, test = t, subgroup = "alloc",
      calls = list(between = sprintf("rma(yi, vi, mods = ~ factor(alloc), data = es, method = \"%s\", test = \"%s\", control = %s)",
                                     m, t, ctrl_text),
                   per_group = sprintf("rma(yi, vi, mods = ~ 0 + factor(alloc), data = es, method = \"%s\", test = \"%s\", control = %s)",
                                       m, t, ctrl_text)),
      groups = sort(unique(as.character(bcg$alloc))), estimate = as.numeric(coef(cell)), se = as.numeric(cell$se),
      tau2 = num(fit$tau2), q_between = num(fit$QM), p = num(fit$QMp),
      df = num(fit$QMdf[1]), df2 = num(fit$QMdf[2]), qe = num(fit$QE), qe_p = num(fit$QEp))
  }

  res <- rma(yi, vi, data = es, method = "REML", control = ctrl)
  rt <- regtest(res, model = "lm")
  lmfit <- summary(rt$fit)
  bcg_regtest[[measure]] <- list(
    call = "regtest(rma(yi, vi, data = es, method = \"REML\"), model = \"lm\")",
    note = "lm(yi ~ sei, weights = 1/vi): the sei coefficient is Egger's intercept; its t test has k - 2 df",
    k = res$k, t = num(rt$zval), p = num(rt$pval), df = num(rt$dfs),
    bias = coef(lmfit)[2, 1], bias_se = coef(lmfit)[2, 2],
    limit_estimate = num(rt$est), limit_ci_low = num(rt$ci.lb), limit_ci_high = num(rt$ci.ub))

  for (m in methods) for (t in tests) {
    groups <- sort(unique(as.character(bcg$alloc)))
    est <- c(); se <- c(); kk <- c()
    for (g in groups) {
      sub <- es[bcg$alloc == g, ]
      r <- suppressWarnings(rma(yi, vi, data = sub, method = m, test = t, control = ctrl))
      est <- c(est, num(r$beta)); se <- c(se, num(r$se)); kk <- c(kk, r$k)
    }
    between <- rma(yi = est, sei = se, method = "FE")
    bcg_subgroups[[length(bcg_subgroups) + 1]] <- list(
      measure = measure, method = m, test = t, subgroup = "alloc",
      calls = list(per_group = sprintf(
        "rma(yi, vi, data = es[dat.bcg$alloc == g, ], method = \"%s\", test = \"%s\", control = %s)",
        m, t, ctrl_text), between = "rma(yi = est, sei = se, method = \"FE\")$QE"),
      groups = groups, k = kk, estimate = est, se = se,
      q_between = num(between$QE), df = length(groups) - 1, p = num(between$QEp))
  }
}
write_fixture("bcg", "dat.bcg (13 BCG vaccine trials): RR, OR and RD from 2x2 tables",
              bcg_data, bcg_escalc, bcg_fits,
              list(regtest = bcg_regtest, subgroups = bcg_subgroups, regtest_rma = bcg_regtest_rma,
                   ranktest = bcg_ranktest, subgroups_common = bcg_subgroups_common))

# ---- dat.normand1999: continuous outcomes (MD, SMD) -------------------------------------------
nd <- dat.normand1999
nd_data <- list(key = paste0("normand", nd$study), source = as.character(nd$source),
                m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i, m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i)
nd_escalc <- list()
nd_fits <- list()
for (measure in c("MD", "SMD")) {
  call <- sprintf(
    "escalc(measure = \"%s\", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)",
    measure)
  es <- escalc(measure = measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = nd)
  nd_escalc[[measure]] <- escalc_record(es, call)
  nd_fits <- c(nd_fits, fits_for(es, measure, nd_data$key))
}
write_fixture("normand1999", "dat.normand1999 (9 stroke-unit trials, length of stay): MD and SMD",
              nd_data, nd_escalc, nd_fits)

# ---- constructed homogeneous set: DL and REML and PM tau2 truncate at 0 -----------------------
# Arm data chosen by hand so that the MDs scatter less than their SEs allow (Q < k - 1).
homog <- data.frame(key = paste0("h", 1:6),
                    m1i = c(10.0, 10.4, 9.7, 10.1, 9.9, 10.2), sd1i = c(4, 5, 4.5, 5, 4, 4.8),
                    n1i = c(30, 40, 35, 50, 45, 38),
                    m2i = c(11.0, 11.2, 10.9, 11.0, 11.1, 10.9), sd2i = c(4.2, 5.1, 4.4, 4.9, 4.1, 5),
                    n2i = c(31, 39, 36, 48, 44, 40))
h_escalc <- list()
h_fits <- list()
for (measure in c("MD", "SMD")) {
  call <- sprintf("escalc(measure = \"%s\", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = homog)",
                  measure)
  es <- escalc(measure = measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = homog)
  h_escalc[[measure]] <- escalc_record(es, call)
  h_fits <- c(h_fits, fits_for(es, measure, homog$key))
}
write_fixture("homogeneous",
              "Constructed homogeneous trials (Q < k - 1): tau2 = 0 for DL, REML and PM; QP CI of tau2 is [0, 0] or starts at 0",
              as.list(homog), h_escalc, h_fits)

# ---- zero cells: the 1/2 continuity correction is added to the 2x2 table of that study only ---
zc <- data.frame(key = paste0("z", 1:5),
                 ai = c(0, 3, 5, 2, 7), n1i = c(25, 40, 60, 33, 80),
                 ci = c(4, 6, 0, 5, 12), n2i = c(24, 42, 58, 30, 79))
z_escalc <- list()
z_fits <- list()
for (measure in c("RR", "OR", "RD")) {
  call <- sprintf("escalc(measure = \"%s\", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = zc)", measure)
  es <- escalc(measure = measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = zc)
  z_escalc[[measure]] <- escalc_record(es, call)
  z_fits <- c(z_fits, fits_for(es, measure, zc$key))
}
write_fixture("zero_cell", "Constructed 2x2 tables, two with a zero cell (default add = 1/2, to = \"only0\")",
              as.list(zc), z_escalc, z_fits)

# ---- wide tau2: 3 studies far apart, so the QP upper bound lies beyond max(100, 10 * tau2) -----
wide <- data.frame(key = c("w1", "w2", "w3"), yi = c(0, 30, 60), vi = c(4, 5, 6))
w_fits <- fits_for(wide, "MD", wide$key)
write_fixture("wide_tau2",
              "Constructed yi/vi, k = 3, large heterogeneity: the Q-profile upper bound of tau2 needs a wider search than metafor's default tau2.max",
              as.list(wide), list(MD = list(call = "data.frame(yi = c(0, 30, 60), vi = c(4, 5, 6))",
                                            yi = wide$yi, vi = wide$vi)), w_fits)

# ---- REML where full Fisher scoring steps oscillate ---------------------------------------------
# metafor stops with "Fisher scoring algorithm did not converge"; its documented remedy is a
# smaller step (control = list(stepadj = 0.5)), which lbpevidence applies by itself.
osc <- data.frame(key = paste0("o", 1:6), yi = c(0, 0, 0, 0, 0, 2), vi = c(1, 2, 2, 2, 2, 0.25))
default_fit <- try(rma(yi, vi, data = osc, method = "REML", control = ctrl), silent = TRUE)
osc_ctrl_text <- "list(threshold = 1e-12, tol = 1e-12, maxiter = 1000, stepadj = 0.5)"
osc_ctrl <- eval(parse(text = osc_ctrl_text))
osc_fits <- list()
for (t in tests) {
  osc_fits[[length(osc_fits) + 1]] <- fit_record(osc$yi, osc$vi, "MD", "REML", t, osc$key,
                                                 control = osc_ctrl, control_text = osc_ctrl_text)
}
write_fixture("reml_stepadj",
              "Constructed yi/vi where REML Fisher scoring with full steps oscillates and metafor stops; fitted with stepadj = 0.5",
              as.list(osc), list(MD = list(call = "data.frame(yi = c(0, 0, 0, 0, 0, 2), vi = c(1, 2, 2, 2, 2, 0.25))",
                                           yi = osc$yi, vi = osc$vi)),
              osc_fits,
              list(default_call = sprintf("rma(yi, vi, data = osc, method = \"REML\", control = %s)", ctrl_text),
                   default_error = if (inherits(default_fit, "try-error")) trimws(as.character(default_fit)) else ""))

# ---- stress: one study with a huge variance (vi = 1e11), and the same data rescaled --------
# A stopping rule scaled by mean(vi) stops REML early here; metafor's absolute threshold does not
# (tau2 is of order 0.1). The rescaled copies (yi x 1e-6, vi x 1e-12 and yi x 1e6, vi x 1e12)
# check that nothing depends on the scale of the data; their tau2 are metafor's own, on that scale.
stress_ctrl_text <- "list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)"
stress_ctrl <- eval(parse(text = stress_ctrl_text))
stress_sweep <- list()
for (src in list(list(name = "bcg", measure = "RR"), list(name = "bcg", measure = "OR"),
                 list(name = "bcg", measure = "RD"), list(name = "normand1999", measure = "MD"))) {
  if (src$name == "bcg") {
    es0 <- escalc(measure = src$measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  } else {
    es0 <- escalc(measure = src$measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
  }
  for (pos in seq_len(nrow(es0))) {
    vi <- as.numeric(es0$vi); vi[pos] <- 1e11
    for (m in c("REML", "PM")) {
      # metafor warns that the ratio of the largest to the smallest variance is extremely large;
      # any other warning (e.g. of non-convergence) stops the script.
      r <- withCallingHandlers(rma(as.numeric(es0$yi), vi, method = m, control = stress_ctrl),
                               warning = function(w) {
                                 if (!grepl("Ratio of largest to smallest sampling variance", conditionMessage(w)))
                                   stop("unexpected warning: ", conditionMessage(w))
                                 invokeRestart("muffleWarning")
                               })
      stress_sweep[[length(stress_sweep) + 1]] <- list(
        source = src$name, measure = src$measure, position = pos, method = m,
        call = sprintf("rma(yi, replace(vi, %d, 1e11), method = \"%s\", control = %s)", pos, m, stress_ctrl_text),
        tau2 = num(r$tau2), estimate = num(r$beta), se = num(r$se))
    }
  }
}
stress_escalc <- list()
stress_fits <- list()
for (variant in list(list(name = "RR", measure = "RR", f = 1), list(name = "RR_SMALL", measure = "RR", f = 1e-6),
                     list(name = "RR_LARGE", measure = "RR", f = 1e6), list(name = "RD", measure = "RD", f = 1))) {
  es0 <- escalc(measure = variant$measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  yi <- as.numeric(es0$yi) * variant$f
  vi <- as.numeric(es0$vi); vi[2] <- 1e11
  vi <- vi * variant$f^2
  stress_escalc[[variant$name]] <- list(
    call = sprintf("escalc(\"%s\", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg): vi[2] = 1e11, then yi * %g, vi * %g",
                   variant$measure, variant$f, variant$f^2),
    yi = yi, vi = vi)
  # metafor's threshold and tol are absolute: scale them with the variances (f²), so that metafor
  # is as precise on the rescaled copies as on the original (1e-12 on tau2 of order 1e-13 is not).
  v_ctrl_text <- sprintf("list(threshold = 1e-12 * %g, tol = 1e-12 * %g, maxiter = 10000)", variant$f^2, variant$f^2)
  v_ctrl <- list(threshold = 1e-12 * variant$f^2, tol = 1e-12 * variant$f^2, maxiter = 10000)
  for (m in c("REML", "PM", "DL")) for (t in c("z", "knha")) {
    rec <- fit_record(yi, vi, variant$name, m, t, paste0("bcg", dat.bcg$trial),
                      control = v_ctrl, control_text = v_ctrl_text)
    stress_fits[[length(stress_fits) + 1]] <- rec
  }
}
write_fixture("stress",
              "dat.bcg log RR and RD with study 2's variance set to 1e11; the RR also rescaled by 1e-6 and 1e6 (the escalc key names the variant); a sweep puts vi = 1e11 on each study of four data sets in turn",
              list(key = paste0("bcg", dat.bcg$trial)), stress_escalc, stress_fits,
              list(sweep = stress_sweep), control_text = stress_ctrl_text)

# ---- k = 2: the sensitivity analysis of a two-study pooling (fixed effect; REML with the
# modified Knapp-Hartung interval, test = "adhoc"). With k = 2 and tau2 > 0, REML gives s2w = 1;
# a homogeneous pair (tau2 = 0, Q < 1) has s2w < 1, where "adhoc" differs from "knha".
nd_es <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                data = dat.normand1999)
ho_es <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                data = homog)
k2_escalc <- list(
  MD = list(call = "escalc(\"MD\", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)[1:2, ]",
            yi = as.numeric(nd_es$yi[1:2]), vi = as.numeric(nd_es$vi[1:2])),
  MD_HOMOG = list(call = "escalc(\"MD\", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = homog)[1:2, ]",
                  yi = as.numeric(ho_es$yi[1:2]), vi = as.numeric(ho_es$vi[1:2])))
k2_fits <- list()
for (name in names(k2_escalc)) {
  k2_fits <- c(k2_fits, fits_for(k2_escalc[[name]], name, c("s1", "s2")))
}
write_fixture("k2", "Two studies: dat.normand1999 studies 1-2 (MD, tau2 > 0) and the homogeneous set's h1-h2 (MD_HOMOG, tau2 = 0)",
              list(key = c("s1", "s2")), k2_escalc, k2_fits)

# ---- Begg's rank test: ties (normal approximation) and k = 60 (exact, as metafor 3.8's ranktest
# passes exact = TRUE, and the normal approximation with exact = FALSE) ------------------------
ties <- data.frame(yi = c(-0.8, -0.5, -0.62, -0.1, -0.3, -0.45, 0.05, -0.2, -0.7, -0.15, -0.35, -0.25),
                   vi = c(0.2, 0.1, 0.1, 0.02, 0.05, 0.1, 0.01, 0.02, 0.2, 0.05, 0.05, 0.02))
set.seed(18)
big <- data.frame(vi = round(runif(60, 0.01, 0.3), 6))
big$yi <- round(rnorm(60, -0.3 - 0.8 * sqrt(big$vi), sqrt(big$vi + 0.02)), 6)
rank_record <- function(d, exact, call) {
  r <- suppressWarnings(ranktest(d$yi, d$vi, exact = exact))
  list(call = call, yi = d$yi, vi = d$vi, tau = num(r$tau), p = num(r$pval))
}
rank_cases <- list(
  ties = rank_record(ties, TRUE, "ranktest(yi, vi, data = ties)  # ties in vi: cor.test falls back to the normal approximation"),
  big_exact = rank_record(big, TRUE, "ranktest(yi, vi, data = big)  # metafor 3.8.1: exact = TRUE"),
  big_normal = rank_record(big, FALSE, "ranktest(yi, vi, data = big, exact = FALSE)"))
write_fixture("ranktest", "Begg's rank test: a set with tied variances (k = 12) and a simulated set (k = 60, set.seed(18))",
              list(ties_key = paste0("t", 1:12)),
              list(TIES = list(call = "ties", yi = ties$yi, vi = ties$vi), BIG = list(call = "big", yi = big$yi, vi = big$vi)),
              list(), list(cases = rank_cases))

# ---- inputs as researchers bring them: continuity-correction rules for 2x2 tables, correlations
# (ZCOR), and mean differences of changes from baseline with an imputed correlation ------------
cc <- data.frame(key = paste0("c", 1:6),
                 ai = c(0, 3, 5, 0, 7, 12), n1i = c(25, 40, 60, 30, 80, 12),
                 ci = c(4, 6, 0, 0, 12, 10), n2i = c(24, 42, 58, 28, 79, 11))
cc_escalc <- list()
for (measure in c("RR", "OR", "RD")) for (to in c("only0", "all", "if0all", "none")) for (drop00 in c(FALSE, TRUE)) {
  for (add in c(0.5, 0.25)) {
    if (add != 0.5 && (to != "all" || drop00)) next
    call <- sprintf("escalc(measure = \"%s\", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = cc, add = %s, to = \"%s\", drop00 = %s)",
                    measure, format(add), to, drop00)
    es <- suppressWarnings(escalc(measure = measure, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = cc,
                                  add = add, to = to, drop00 = drop00))
    cc_escalc[[length(cc_escalc) + 1]] <- list(measure = measure, add = add, to = to, drop00 = drop00, call = call,
                                                yi = as.numeric(es$yi), vi = as.numeric(es$vi))
  }
}
mol <- dat.molloy2014
zcor <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = mol)
zcor_fit <- rma(yi, vi, data = zcor, method = "REML", test = "knha", control = ctrl)
# changes from baseline: per arm escalc("MC", m1i = follow-up, m2i = baseline, sd1i, sd2i, ni, ri),
# the MD of the changes is the difference of the arms' yi and its variance the sum of their vi
pp <- data.frame(key = paste0("p", 1:5),
                 mean_int = c(8.1, 10.2, 6.5, 12.0, 9.4), sd_int = c(4.0, 5.1, 3.9, 6.2, 4.4), n_int = c(40, 55, 32, 80, 61),
                 baseline_mean_int = c(12.0, 13.1, 11.2, 14.8, 12.9), baseline_sd_int = c(4.2, 4.9, 4.1, 5.8, 4.6),
                 mean_ctl = c(10.0, 11.9, 9.6, 13.1, 11.0), sd_ctl = c(4.4, 5.0, 4.2, 6.0, 4.1), n_ctl = c(41, 52, 30, 79, 60),
                 baseline_mean_ctl = c(12.2, 12.8, 11.5, 14.6, 12.7), baseline_sd_ctl = c(4.0, 5.2, 4.0, 6.1, 4.3))
pp_records <- list()
for (r in c(0.5, 0.8)) {
  int <- escalc(measure = "MC", m1i = mean_int, m2i = baseline_mean_int, sd1i = sd_int, sd2i = baseline_sd_int,
                ni = n_int, ri = rep(r, 5), data = pp)
  ctl <- escalc(measure = "MC", m1i = mean_ctl, m2i = baseline_mean_ctl, sd1i = sd_ctl, sd2i = baseline_sd_ctl,
                ni = n_ctl, ri = rep(r, 5), data = pp)
  yi <- as.numeric(int$yi) - as.numeric(ctl$yi)
  vi <- as.numeric(int$vi) + as.numeric(ctl$vi)
  fit <- rma(yi, vi, method = "REML", test = "knha", control = ctrl)
  pp_records[[length(pp_records) + 1]] <- list(
    correlation = r,
    call = sprintf("escalc(\"MC\", m1i = mean_int, m2i = baseline_mean_int, sd1i = sd_int, sd2i = baseline_sd_int, ni = n_int, ri = %s)$yi - (the same for the control arm); vi summed", format(r)),
    fit_call = sprintf("rma(yi, vi, method = \"REML\", test = \"knha\", control = %s)", ctrl_text),
    yi = yi, vi = vi, estimate = num(fit$beta), se = num(fit$se), tau2 = num(fit$tau2))
}
write_fixture("escalc_inputs",
              "Inputs as researchers bring them: 2x2 tables under metafor's continuity rules (add, to, drop00); dat.molloy2014 correlations (ZCOR); changes from baseline with an imputed correlation (MC per arm)",
              list(continuity = as.list(cc), prepost = as.list(pp),
                   molloy = list(key = paste0(mol$authors, " ", mol$year), ri = mol$ri, ni = mol$ni)),
              list(ZCOR = list(call = "escalc(measure = \"ZCOR\", ri = ri, ni = ni, data = dat.molloy2014)",
                               yi = as.numeric(zcor$yi), vi = as.numeric(zcor$vi))),
              list(fit_record(zcor$yi, zcor$vi, "ZCOR", "REML", "knha", paste0("m", seq_len(nrow(mol))))),
              list(continuity = cc_escalc, prepost = pp_records))
