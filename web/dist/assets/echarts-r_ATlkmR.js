import{u as a,i as s,a as l,b as t,c as i,d as n,e as $,f as r,g as e,h as o}from"./charts-BTwoQxPI.js";import{j as h}from"./charts-BTwoQxPI.js";a([s,l,t,i,n,$,r,e,o]);export{h as echarts};
