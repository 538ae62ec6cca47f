"""The models of 帮扶措施, one module per area: measures (the catalogue, measures, evidence, M8 exceptions, closing
risk points), funds (资金) and consumption assistance (消费帮扶)."""

from .consumption import Product, Sale
from .funds import Fund, FundEntry, FundRequest
from .measures import MONEY, Measure, MeasureEvidence, MeasureType, PolicyException, RiskClosure

__all__ = [
    "MONEY",
    "Fund",
    "FundEntry",
    "FundRequest",
    "Measure",
    "MeasureEvidence",
    "MeasureType",
    "PolicyException",
    "Product",
    "RiskClosure",
    "Sale",
]
